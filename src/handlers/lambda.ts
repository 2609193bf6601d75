/**
 * The one wrapper every Lambda entry point goes through: middy with Powertools' injectLambdaContext (request id,
 * cold start, function name in every line) and `resetKeys`, so keys appended during one invocation never
 * reach the next one's lines in a warm container.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger } from '../util/logger';

/** A Lambda handler; the runtime always passes a context, a direct call (a test, the local stack) may not. */
export type LambdaHandler<TEvent, TResult> = (event: TEvent, context?: Context) => Promise<TResult>;

export function lambdaHandler<TEvent, TResult>(handler: (event: TEvent) => Promise<TResult>): LambdaHandler<TEvent, TResult> {
  const wrapped = middy<TEvent, TResult, Error, Context>()
    // Never the event itself (POWERTOOLS_LOGGER_LOG_EVENT notwithstanding): it may carry credentials and bodies.
    .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
    .handler((event: TEvent) => handler(event));
  return (event, context) => wrapped(event, context ?? ({} as Context));
}
