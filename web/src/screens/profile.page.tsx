import { Badge, Card, Group, Stack, Text } from "@mantine/core";
import { Page } from "../app/page.tsx";
import { useViewer } from "../app/viewer.tsx";

/** Who the API takes the signed-in person to be. */
export function ProfilePage() {
  const { me, readsApprovals } = useViewer();
  return (
    <Page title="Profile">
      <Card withBorder maw={640}>
        <Stack gap="xs">
          <Text fw={600}>{me.displayName}</Text>
          <Text>{me.email}</Text>
          <Group gap="xs">
            <Badge variant="outline" color="gray.8">
              {me.kind}
            </Badge>
            {(me.roles ?? []).map((role) => (
              <Badge key={role}>{role}</Badge>
            ))}
            {readsApprovals && (
              <Badge variant="outline" color="gray.8">
                Reads approval configuration
              </Badge>
            )}
          </Group>
        </Stack>
      </Card>
    </Page>
  );
}
