/**
 * The program-load baseline: an empty Pulumi TypeScript program, as `pulumi new typescript` starts
 * one (it imports the SDK and declares nothing).
 */
import * as pulumi from '@pulumi/pulumi';

export const stackName = pulumi.getStack();
