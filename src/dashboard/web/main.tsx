/** The dashboard's web app: a header with the pages, and the page the hash names. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { RolesResponse } from '../../client';
import { adoptToken, api, dashboardInfo } from './api';
import { ErrorBox } from './components';
import { usePoll } from './hooks';
import { JobPage } from './pages/job';
import { JobsPage } from './pages/jobs';
import { MayIPage } from './pages/may-i';
import { QueuesPage } from './pages/queues';
import { RolesPage } from './pages/roles';
import { UsagePage } from './pages/usage';
import { usePlace } from './router';
import './app.css';

const PAGES = [
  { path: 'jobs', title: 'Jobs' },
  { path: 'roles', title: 'Roles' },
  { path: 'may-i', title: 'May I?' },
  { path: 'queues', title: 'Queues' },
  { path: 'usage', title: 'Usage' },
] as const;

function App() {
  const place = usePlace();
  const [info, setInfo] = useState<{ endpoint: string; version: string } | undefined>();
  // The clusters (and your roles on them) every page's cluster choice offers: read once a minute.
  const roles = usePoll(() => api<RolesResponse>('GET', '/roles'), 'roles', 60_000);
  const [page = 'jobs', id] = place.segments;
  useEffect(() => {
    void dashboardInfo().then(setInfo, () => undefined);
  }, []);
  useEffect(() => {
    const title = PAGES.find((p) => p.path === page)?.title ?? 'Jobs';
    document.title = `${id ?? title} - EMR step gateway`;
  }, [page, id]);
  const clusters = roles.data?.clusters;
  let body;
  if (page === 'jobs' && id) body = <JobPage jobId={id} />;
  else if (page === 'roles') body = <RolesPage roles={roles} />;
  else if (page === 'may-i') body = <MayIPage place={place} clusters={clusters} />;
  else if (page === 'queues') body = <QueuesPage place={place} clusters={clusters} />;
  else if (page === 'usage') body = <UsagePage place={place} />;
  else body = <JobsPage place={place} clusters={clusters} />;
  return (
    <>
      <header>
        <a class="brand" href="#/jobs">
          EMR step gateway
        </a>
        <nav aria-label="Pages">
          {PAGES.map((p) => (
            <a key={p.path} href={`#/${p.path}`} aria-current={p.path === page ? 'page' : undefined}>
              {p.title}
            </a>
          ))}
        </nav>
        <span class="endpoint" title="Where the dashboard's calls go, signed with your AWS credentials">
          {info ? info.endpoint : ''}
        </span>
      </header>
      <main>
        {page !== 'roles' ? <ErrorBox error={roles.error && !roles.data ? roles.error : undefined} what="Reaching the gateway" /> : null}
        {body}
      </main>
    </>
  );
}

adoptToken();
const root = document.getElementById('app')!;
root.textContent = ''; // the "Loading..." the HTML shows until the script runs
render(<App />, root);
