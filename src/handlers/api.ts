/** The HTTP API's Lambda handler (API Gateway REST API, AWS_IAM authorization, proxy integration). */
import { version } from '../../package.json';
import { gateway } from '../container';
import { createApiHandler } from '../http/api';
import { openApiDocument } from '../http/openapi';

let document: Record<string, unknown> | undefined;

export const handler = createApiHandler(() => ({
  service: gateway().service(),
  openapi: () => (document ??= openApiDocument(version)),
  version,
}));
