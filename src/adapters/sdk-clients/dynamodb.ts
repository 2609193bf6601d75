import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { clientConfig, type AwsTarget } from '../client-config';

/** The DynamoDB client. */
export const dynamodbClient = (target: AwsTarget): DynamoDBClient => new DynamoDBClient(clientConfig(target));
