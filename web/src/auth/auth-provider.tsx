import { Center, Loader } from "@mantine/core";
import { createContext, type ReactNode, use, useEffect, useState } from "react";
import { ErrorAlert } from "../app/ui.tsx";
import { type Auth, createAuth, loadSignInConfig, type Session } from "./session.ts";

interface AuthState {
  auth: Auth;
  session: Session | null;
  setSession(session: Session | null): void;
}

const AuthContext = createContext<AuthState | null>(null);

export function useAuth(): AuthState {
  const state = use(AuthContext);
  if (!state) throw new Error("useAuth outside AuthProvider");
  return state;
}

/** The signed-in session of this tab, or null until someone signs in. */
export function useSession(): Session {
  const { session } = useAuth();
  if (!session) throw new Error("useSession before sign-in");
  return session;
}

/** Reads GET /auth/config, restores this tab's session if it has one, and keeps it. */
export function AuthProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<{ auth: Auth; session: Session | null } | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    (async () => {
      const config = await loadSignInConfig();
      const auth = createAuth(config, () => setState((current) => current && { ...current, session: null }));
      const session = await auth.restore();
      if (!cancelled) setState({ auth, session });
    })().catch((error: unknown) => setFailure(error instanceof Error ? error.message : String(error)));
    return () => {
      cancelled = true;
    };
  }, []);

  if (failure) return <ErrorAlert title="The console cannot reach the server">{failure}</ErrorAlert>;
  if (!state)
    return (
      <Center h="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  return (
    <AuthContext value={{ ...state, setSession: (session) => setState({ ...state, session }) }}>{children}</AuthContext>
  );
}
