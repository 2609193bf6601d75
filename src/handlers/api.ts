/** The HTTP API's Lambda handler (API Gateway REST API, AWS_IAM authorization, proxy integration). */
import { lambdaCore } from '../composition/core';
import { lambdaService } from '../composition/service';
import { apiDeps, createApiHandler, openApiFromFile } from '../http/api';

export const handler = createApiHandler(apiDeps(lambdaService, () => openApiFromFile(lambdaCore().env.openapiDocument)));
