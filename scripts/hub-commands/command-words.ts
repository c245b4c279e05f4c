/** The first words that make `npm run hub` run a command against a hub instead of serving one. */
export const HUB_COMMAND_WORDS = [
  'devices',
  'modules',
  'twin',
  'query',
  'invoke-method',
  'telemetry',
] as const;
