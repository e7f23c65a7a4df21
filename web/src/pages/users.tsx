// Users and keys (admin): users and roles, agent keys (shown once), API tokens, the audit log.
import { useState } from "preact/hooks";
import { type Me, api, enc, qs } from "../api";
import { ErrorBox, Loading, Notice, Section, Time, errorText, useAsync, useNotice } from "../ui";
import { Audit } from "./apps";

export function Users({ me }: { me: Me }) {
  const [notice, notify] = useNotice();
  const [error, setError] = useState("");
  const run = async (f: () => Promise<string | void>) => {
    setError("");
    try {
      const s = await f();
      if (s) notify(s);
    } catch (e) {
      setError(errorText(e));
    }
  };
  if (me.role !== "admin")
    return <main id="main"><h1>Users and keys</h1><p>This page needs the admin role.</p></main>;
  return (
    <main id="main" tabIndex={-1}>
      <h1>Users and keys</h1>
      <Notice text={notice} />
      <ErrorBox error={error} />
      <div class="grid2">
        <UserList run={run} me={me} />
        <Keys run={run} />
      </div>
      <Tokens run={run} />
      <Audit />
    </main>
  );
}

type Run = (f: () => Promise<string | void>) => Promise<void>;

function UserList({ run, me }: { run: Run; me: Me }) {
  const users = useAsync(() => api.get<any[]>("/api/v1/users"), []);
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState("viewer");
  return (
    <Section title="Users">
      <ErrorBox error={users.error} />
      {!users.data ? <Loading what="users" /> : (
        <table>
          <thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col">State</th><th scope="col">Actions</th></tr></thead>
          <tbody>
            {users.data.map((u) => (
              <tr key={u.username}>
                <td>{u.username}{u.username === me.username ? <span class="muted"> (you)</span> : null}</td>
                <td>
                  <select aria-label={`Role of ${u.username}`} value={u.role}
                          onChange={(e) => run(async () => {
                            await api.patch(`/api/v1/users/${enc(u.username)}`, { role: (e.target as HTMLSelectElement).value });
                            users.reload();
                            return `${u.username} is now ${(e.target as HTMLSelectElement).value}.`;
                          })}>
                    {["viewer", "analyst", "admin"].map((r) => <option key={r} value={r}>{r}</option>)}
                  </select>
                </td>
                <td>{u.disabled ? "disabled" : "active"}</td>
                <td class="actions">
                  <button type="button" onClick={() => run(async () => {
                    await api.patch(`/api/v1/users/${enc(u.username)}`, { disabled: !u.disabled });
                    users.reload();
                    return `${u.username} ${u.disabled ? "enabled" : "disabled"}.`;
                  })}>{u.disabled ? "Enable" : "Disable"}</button>
                  <button type="button" class="danger" onClick={() => run(async () => {
                    if (!confirm(`Delete user ${u.username} and their tokens?`)) return;
                    await api.del(`/api/v1/users/${enc(u.username)}`);
                    users.reload();
                    return `${u.username} deleted.`;
                  })}>Delete</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form class="filters" style={{ marginTop: "12px" }} aria-label="New user" onSubmit={(e) => {
        e.preventDefault();
        run(async () => {
          await api.post("/api/v1/users", { username: name, password, role });
          setName("");
          setPassword("");
          users.reload();
          return `User ${name} created.`;
        });
      }}>
        <div><label for="nu-name">New user name</label><input id="nu-name" value={name} autoComplete="off" onInput={(e) => setName((e.target as HTMLInputElement).value)} /></div>
        <div><label for="nu-pass">Password (8+ characters)</label><input id="nu-pass" type="password" autoComplete="new-password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} /></div>
        <div><label for="nu-role">Role</label>
          <select id="nu-role" value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
            {["viewer", "analyst", "admin"].map((r) => <option key={r} value={r}>{r}</option>)}
          </select></div>
        <button type="submit" class="primary">Create</button>
      </form>
    </Section>
  );
}

function Keys({ run }: { run: Run }) {
  const keys = useAsync(() => api.get<any[]>("/api/v1/keys"), []);
  const [app, setApp] = useState("");
  const [name, setName] = useState("");
  const [shown, setShown] = useState<any>(null);
  return (
    <Section title="Agent keys">
      <ErrorBox error={keys.error} />
      {shown && (
        <div class="notice" role="status">
          Key for <strong>{shown.app}</strong> (shown once; give it to the agent with <code>vigil run --key</code>):
          <pre class="mono" data-testid="new-key">{shown.key}</pre>
        </div>
      )}
      {!keys.data ? <Loading what="keys" /> : (
        <table>
          <thead><tr><th scope="col">Application</th><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Created</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {keys.data.length === 0 && <tr><td colSpan={5} class="muted">No agent key yet.</td></tr>}
            {keys.data.map((k) => (
              <tr key={k.id}>
                <td>{k.app}</td><td>{k.name}</td><td class="mono">{k.prefix}</td><td><Time value={k.created_at} /></td>
                <td><button type="button" class="danger" onClick={() => run(async () => {
                  if (!confirm(`Revoke key ${k.prefix} of ${k.app}? Its agents stop reporting.`)) return;
                  await api.del(`/api/v1/keys/${k.id}`);
                  keys.reload();
                  return `Key ${k.prefix} revoked.`;
                })}>Revoke</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form class="filters" style={{ marginTop: "12px" }} aria-label="New agent key" onSubmit={(e) => {
        e.preventDefault();
        run(async () => {
          setShown(await api.post("/api/v1/keys", { app, ...(name ? { name } : {}) }));
          keys.reload();
        });
      }}>
        <div><label for="nk-app">Application</label><input id="nk-app" value={app} onInput={(e) => setApp((e.target as HTMLInputElement).value)} /></div>
        <div><label for="nk-name">Key name (optional)</label><input id="nk-name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} /></div>
        <button type="submit" class="primary">Create key</button>
      </form>
    </Section>
  );
}

function Tokens({ run }: { run: Run }) {
  const tokens = useAsync(() => api.get<any[]>("/api/v1/tokens" + qs({ all: 1 })), []);
  const [name, setName] = useState("");
  const [role, setRole] = useState("viewer");
  const [shown, setShown] = useState<any>(null);
  return (
    <Section title="API tokens">
      <ErrorBox error={tokens.error} />
      {shown && <div class="notice" role="status">Token <strong>{shown.name}</strong> (shown once): <pre class="mono">{shown.token}</pre></div>}
      {tokens.data && (
        <table>
          <thead><tr><th scope="col">Name</th><th scope="col">Owner</th><th scope="col">Role</th><th scope="col">Expires</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {tokens.data.length === 0 && <tr><td colSpan={5} class="muted">No API token.</td></tr>}
            {tokens.data.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td><td>{t.username ?? t.owner}</td><td>{t.role}</td><td><Time value={t.expires_at} /></td>
                <td><button type="button" class="danger" onClick={() => run(async () => {
                  await api.del(`/api/v1/tokens/${t.id}`);
                  tokens.reload();
                  return `Token ${t.name} revoked.`;
                })}>Revoke</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form class="filters" style={{ marginTop: "12px" }} aria-label="New API token" onSubmit={(e) => {
        e.preventDefault();
        run(async () => {
          setShown(await api.post("/api/v1/tokens", { name, role }));
          setName("");
          tokens.reload();
        });
      }}>
        <div><label for="nt-name">Token name</label><input id="nt-name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} /></div>
        <div><label for="nt-role">Role</label>
          <select id="nt-role" value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
            {["viewer", "analyst", "admin"].map((r) => <option key={r} value={r}>{r}</option>)}
          </select></div>
        <button type="submit">Create token</button>
      </form>
    </Section>
  );
}
