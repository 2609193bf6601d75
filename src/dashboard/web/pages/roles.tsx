/** The runtime roles you may use on each cluster, the step types, and why (the decision's reason and statements). */
import type { RolesResponse } from '../../../client';
import { describeRef } from '../statements';
import { Arn, ErrorBox, Head, Loading, Section } from '../components';
import type { Polled } from '../hooks';
import { href } from '../router';

export function RolesPage({ roles }: { roles: Polled<RolesResponse> }) {
  if (roles.error && !roles.data) return <ErrorBox error={roles.error} what="Reading your roles" />;
  if (!roles.data) return <Loading what="your roles" />;
  return (
    <>
      <h1>Your runtime roles</h1>
      <p class="muted">The roles of this gateway's catalogue your policy lets you submit steps with, per cluster. Ask "May I?" for any other combination.</p>
      {roles.data.clusters.map((cluster) => (
        <Section key={cluster.clusterId} title={cluster.clusterId}>
          {cluster.unavailable ? (
            <p class="muted">{cluster.unavailable}</p>
          ) : !cluster.roles.length ? (
            <p class="muted">No runtime role of the catalogue is allowed to you here.</p>
          ) : (
            <table>
              <Head columns={['Role', 'Step types', 'Why', '']} />
              <tbody>
                {cluster.roles.map((role) => (
                  <tr key={role.roleArn}>
                    <td>
                      <Arn arn={role.roleArn} />
                    </td>
                    <td>{role.stepTypes.join(', ')}</td>
                    <td>
                      {role.reason ?? ''}
                      {role.allowedBy?.length ? <div class="muted">{role.allowedBy.map(describeRef).join('; ')}</div> : null}
                    </td>
                    <td>
                      <a href={href('/may-i', { clusterId: cluster.clusterId, executionRoleArn: role.roleArn, stepType: role.stepTypes[0] })}>Ask</a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
      ))}
    </>
  );
}
