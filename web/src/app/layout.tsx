import { AppShell, Burger, Button, Group, NavLink, ScrollArea, Text } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { Outlet, NavLink as RouterNavLink, useLocation } from "react-router";
import { useSession } from "../auth/auth-provider.tsx";
import { LiveUpdates } from "./live-updates.tsx";
import { usePhone } from "./ui.tsx";
import { useViewer } from "./viewer.tsx";

interface NavItem {
  to: string;
  label: string;
  show: boolean;
}

export function Layout() {
  const [opened, { toggle, close }] = useDisclosure();
  const session = useSession();
  const { me, isReader, readsApprovals } = useViewer();
  const location = useLocation();
  // Below the sm breakpoint the closed navigation only slides off screen: keep it out of
  // the tab order and the accessibility tree until the menu button opens it.
  const phone = usePhone();

  const items: NavItem[] = [
    { to: "/requests", label: "Access requests", show: true },
    { to: "/requests/new", label: "New request", show: true },
    { to: "/access", label: "My access", show: true },
    { to: "/policies", label: readsApprovals ? "Access policies" : "What needs approval", show: true },
    { to: "/groups", label: "Approver groups", show: readsApprovals },
    { to: "/settings", label: "Privileged access", show: readsApprovals },
    { to: "/audit", label: "Audit log", show: isReader },
    { to: "/executions", label: "Task executions", show: true },
    { to: "/profile", label: "Profile", show: true },
  ];

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 230, breakpoint: "sm", collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        {/* The first stop of the Tab key: past the header and the navigation to the screen itself. */}
        <a href="#main" className="skip-link">
          Skip to content
        </a>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Navigation" />
            <Text fw={700} size="lg">
              Elevate
            </Text>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Text size="sm" visibleFrom="xs" truncate>
              {me.displayName}
            </Text>
            <Button variant="default" size="xs" onClick={() => void session.signOut()}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main" inert={phone && !opened}>
        <ScrollArea>
          {items
            .filter((item) => item.show)
            .map((item) => (
              <NavLink
                key={item.to}
                component={RouterNavLink}
                to={item.to}
                end
                label={item.label}
                variant="filled"
                active={location.pathname === item.to}
                onClick={close}
              />
            ))}
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main id="main" tabIndex={-1}>
        <LiveUpdates />
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
