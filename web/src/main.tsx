// The Vigil dashboard: a single page served by vigild (docs/dashboard.md).
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import "./style.css";
import { type Me, setUnauthenticatedHandler, signOut, whoAmI } from "./api";
import { match, navigate, useLocation } from "./router";
import { ErrorBox, Link, errorText } from "./ui";
import { SignIn } from "./pages/signin";
import { Overview } from "./pages/overview";
import { Incidents } from "./pages/incidents";
import { IncidentPage } from "./pages/incident";
import { Events } from "./pages/events";
import { Apps, AppPage } from "./pages/apps";
import { Users } from "./pages/users";

const kNav: [string, string, (me: Me) => boolean][] = [
  ["/", "Overview", () => true],
  ["/incidents", "Incidents", () => true],
  ["/events", "Events", () => true],
  ["/apps", "Applications", () => true],
  ["/users", "Users and keys", (me) => me.role === "admin"],
];

function Page({ me }: { me: Me }) {
  const { path, query } = useLocation();
  let m: Record<string, string> | null;
  if (path === "/" || path === "/overview") return <Overview />;
  if (path === "/incidents") return <Incidents query={query} />;
  if ((m = match("/incidents/:id", path))) return <IncidentPage id={m.id} me={me} />;
  if (path === "/events") return <Events query={query} />;
  if ((m = match("/events/:id", path))) return <Events query={query} open={m.id} />;
  if (path === "/apps") return <Apps />;
  if ((m = match("/apps/:name", path))) return <AppPage name={m.name} me={me} />;
  if (path === "/users") return <Users me={me} />;
  return (
    <main id="main" tabIndex={-1}>
      <h1>Not found</h1>
      <p>There is no page at {path}. <Link href="/">Go to the overview</Link>.</p>
    </main>
  );
}

function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [error, setError] = useState("");
  const { path } = useLocation();
  useEffect(() => {
    setUnauthenticatedHandler(() => setMe(null));
    whoAmI().then(setMe, (e) => setError(errorText(e)));
  }, []);
  if (error) return <main id="main"><ErrorBox error={error} /></main>;
  if (me === undefined) return <p class="muted" role="status">Loading…</p>;
  if (me === null)
    return <SignIn onSignedIn={(m) => {
      setMe(m);
      if (path === "/login") navigate("/", true);
    }} />;
  const section = "/" + (path.split("/")[1] ?? "");
  return (
    <div class="shell">
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <span class="brand" aria-label="Vigil">◆ Vigil</span>
        <nav aria-label="Main">
          <ul>
            {kNav.filter(([, , ok]) => ok(me)).map(([href, label]) => (
              <li key={href}>
                <Link href={href} aria-current={(href === "/" ? path === "/" || path === "/overview"
                                                              : section === href) ? "page" : undefined}>
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span>{me.username} <span class="muted">({me.role})</span></span>
          <button type="button" class="link-button" onClick={async () => {
            try {
              await signOut();
            } catch {
              // The session may already be gone: signed out either way.
            }
            setMe(null);
            navigate("/login", true);
          }}>Sign out</button>
        </div>
      </header>
      <Page me={me} />
    </div>
  );
}

render(<App />, document.getElementById("app")!);
