import { useState } from "preact/hooks";
import { ApiError, type Me, signIn } from "../api";

export function SignIn({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!username || !password) {
      setError("Enter your user name and password.");
      return;
    }
    setBusy(true);
    setError("");
    try {
      onSignedIn(await signIn(username, password));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401)
        setError("Wrong user name or password.");
      else if (err instanceof ApiError && err.status === 429)
        setError("Too many failed sign-ins: wait a few minutes and try again.");
      else if (err instanceof ApiError) setError(err.message);
      else setError(String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="signin">
      <form onSubmit={submit} aria-labelledby="signin-title" noValidate>
        <h1 id="signin-title">◆ Vigil</h1>
        <p class="muted">Sign in to the dashboard.</p>
        <label for="username">User name</label>
        <input id="username" name="username" autoComplete="username" autoFocus value={username}
               onInput={(e) => setUsername((e.target as HTMLInputElement).value)} />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password"
               value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        {error && <div class="error" role="alert" id="signin-error">{error}</div>}
        <button type="submit" class="primary" disabled={busy}>{busy ? "Signing in…" : "Sign in"}</button>
      </form>
    </main>
  );
}
