/** The HTTP API's Lambda handler (API Gateway REST API, AWS_IAM authorization, proxy integration). */
import { lambdaCore } from '../composition/core';
import { lambdaJobLogs } from '../composition/job-logs';
import { lambdaService } from '../composition/service';
import { lambdaSessions } from '../composition/sessions';
import { apiDeps, createApiHandler, openApiFromFile } from '../http/api';

export const handler = createApiHandler(apiDeps(lambdaService, lambdaSessions, () => openApiFromFile(lambdaCore().env.openapiDocument), lambdaJobLogs));
