/** The HTTP API's Lambda handler (API Gateway REST API, AWS_IAM authorization, proxy integration). */
import { lambdaService } from '../composition/service';
import { apiDeps, createApiHandler } from '../http/api';

export const handler = createApiHandler(apiDeps(lambdaService));
