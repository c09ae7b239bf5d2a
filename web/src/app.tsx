import { Navigate, Route, Routes } from "react-router";
import { Layout } from "./app/layout.tsx";
import { ViewerProvider } from "./app/viewer.tsx";
import { AuthProvider, useAuth } from "./auth/auth-provider.tsx";
import { callbackPath } from "./auth/session.ts";
import { SignInCallbackPage, SignInPage } from "./auth/sign-in.page.tsx";
import { GraphQLProvider } from "./graphql/graphql-provider.tsx";
import { AddPolicyPage } from "./screens/add-policy.page.tsx";
import { AuditPage } from "./screens/audit.page.tsx";
import { ExecutionsPage } from "./screens/executions.page.tsx";
import { GroupsPage } from "./screens/groups.page.tsx";
import { MyAccessPage } from "./screens/my-access.page.tsx";
import { NewGroupPage } from "./screens/new-group.page.tsx";
import { NewRequestPage } from "./screens/new-request.page.tsx";
import { PoliciesPage } from "./screens/policies.page.tsx";
import { ProfilePage } from "./screens/profile.page.tsx";
import { RequestPage } from "./screens/request.page.tsx";
import { RequestsPage } from "./screens/requests.page.tsx";
import { SettingsPage } from "./screens/settings.page.tsx";

function SignedIn() {
  const { session } = useAuth();
  // Signed out, any route shows sign-in in place and comes back to it after.
  if (!session) return <SignInPage />;
  return (
    <GraphQLProvider session={session}>
      <ViewerProvider>
        <Routes>
          <Route element={<Layout />}>
            <Route index element={<Navigate to="/requests" replace />} />
            <Route path="requests" element={<RequestsPage />} />
            <Route path="requests/new" element={<NewRequestPage />} />
            <Route path="requests/:id" element={<RequestPage />} />
            <Route path="access" element={<MyAccessPage />} />
            <Route path="policies" element={<PoliciesPage />} />
            <Route path="policies/new" element={<AddPolicyPage />} />
            <Route path="groups" element={<GroupsPage />} />
            <Route path="groups/new" element={<NewGroupPage />} />
            <Route path="settings" element={<SettingsPage />} />
            <Route path="audit" element={<AuditPage />} />
            <Route path="executions" element={<ExecutionsPage />} />
            <Route path="profile" element={<ProfilePage />} />
            <Route path="*" element={<Navigate to="/requests" replace />} />
          </Route>
        </Routes>
      </ViewerProvider>
    </GraphQLProvider>
  );
}

export function App() {
  return (
    <AuthProvider>
      <Routes>
        <Route path={callbackPath} element={<SignInCallbackPage />} />
        <Route path="*" element={<SignedIn />} />
      </Routes>
    </AuthProvider>
  );
}
