import { Badge, Button, Center, Container, Divider, Group, Loader, Paper, Stack, Text, Title } from "@mantine/core";
import { useEffect, useRef, useState } from "react";
import { useLocation, useNavigate } from "react-router";
import { ErrorAlert } from "../app/ui.tsx";
import { useAuth } from "./auth-provider.tsx";
import { type DevUser, loadDevUsers } from "./session.ts";

function DevUsers({ onPick }: { onPick(email: string): void }) {
  const [users, setUsers] = useState<DevUser[] | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  useEffect(() => {
    loadDevUsers().then(setUsers, (error: Error) => setFailure(error.message));
  }, []);
  if (failure) return <ErrorAlert>{failure}</ErrorAlert>;
  if (!users) return <Loader aria-label="Loading demo users" />;
  const organizations = [...new Set(users.map((user) => user.organization))];
  return (
    <Stack gap="lg">
      {organizations.map((organization) => (
        <section key={organization} aria-labelledby={`org-${organization}`}>
          <Title order={3} size="h5" id={`org-${organization}`} mb="xs">
            {organization}
          </Title>
          <Stack gap="xs">
            {users
              .filter((user) => user.organization === organization)
              .map((user) => (
                <Button
                  key={user.email}
                  variant="default"
                  justify="space-between"
                  h="auto"
                  py={6}
                  onClick={() => onPick(user.email)}
                  rightSection={
                    <Group gap={4}>
                      {user.kind !== "MEMBER" && <Badge variant="outline">{user.kind}</Badge>}
                      {user.roles.map((role) => (
                        <Badge key={role}>{role}</Badge>
                      ))}
                    </Group>
                  }
                >
                  <Stack gap={0} align="flex-start">
                    <Text size="sm" fw={600}>
                      {user.displayName}
                    </Text>
                    <Text size="xs">{user.email}</Text>
                  </Stack>
                </Button>
              ))}
          </Stack>
        </section>
      ))}
    </Stack>
  );
}

/** Sign-in: the organization's identity provider, and in development "sign in as" a demo user. */
export function SignInPage() {
  const { auth, setSession } = useAuth();
  const location = useLocation();
  const [failure, setFailure] = useState<string | null>(null);
  const { issuer, clientId, devSignIn } = auth.config;
  const returnTo = `${location.pathname}${location.search}`;

  return (
    <Container size="xs" py="xl" component="main">
      <Paper withBorder p="lg" radius="md">
        <Stack>
          <Title order={1} size="h2">
            Sign in to Elevate
          </Title>
          <Text>Privileged access: request, approve and audit just-in-time access.</Text>
          {failure && <ErrorAlert>{failure}</ErrorAlert>}
          {issuer && clientId && (
            <Button
              size="md"
              onClick={() => auth.signInWithProvider(returnTo).catch((error: Error) => setFailure(error.message))}
            >
              Sign in with your organization account
            </Button>
          )}
          {issuer && clientId && devSignIn && <Divider label="or, in development" />}
          {devSignIn && (
            <>
              <Title order={2} size="h4">
                Sign in as a demo user
              </Title>
              <DevUsers
                onPick={(email) => auth.devSignIn(email).then(setSession, (error: Error) => setFailure(error.message))}
              />
            </>
          )}
          {!(issuer && clientId) && !devSignIn && (
            <ErrorAlert>No sign-in is configured: set OIDC_ISSUER and OIDC_CLIENT_ID on the server.</ErrorAlert>
          )}
        </Stack>
      </Paper>
    </Container>
  );
}

/** Where the identity provider sends the browser back with the authorization code. */
export function SignInCallbackPage() {
  const { auth, setSession } = useAuth();
  const navigate = useNavigate();
  const [failure, setFailure] = useState<string | null>(null);
  // The code is single-use: React's development double effects must not redeem it twice.
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    auth.completeSignIn().then(
      ({ session, returnTo }) => {
        setSession(session);
        navigate(returnTo, { replace: true });
      },
      (error: Error) => setFailure(error.message),
    );
  }, [auth, setSession, navigate]);
  return (
    <Center h="100vh" component="main">
      {failure ? <ErrorAlert title="Sign-in failed">{failure}</ErrorAlert> : <Loader aria-label="Signing in" />}
    </Center>
  );
}
