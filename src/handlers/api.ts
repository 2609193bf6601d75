/** The HTTP API's Lambda handler (API Gateway REST API, AWS_IAM authorization, proxy integration). */
import { version } from '../../package.json';
import { lambdaService } from '../composition/service';
import { createApiHandler } from '../http/api';
import { openApiDocument } from '../http/openapi';

let document: Record<string, unknown> | undefined;

export const handler = createApiHandler(() => ({
  service: lambdaService(),
  openapi: () => (document ??= openApiDocument(version)),
  version,
}));
