import type { Route } from './routes';

export function configurationRoutes(): Route[] {
  return [];
}
