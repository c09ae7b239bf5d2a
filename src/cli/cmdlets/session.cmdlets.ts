import { normalizeUrl } from "../auth/credentials.ts";
import { deviceSignIn, devSignIn, signInConfig } from "../auth/sign-in.ts";
import { type Api, createApi } from "../client.ts";
import { cmdlet, text } from "../cmdlet.ts";
import { graphql } from "../graphql/gql.ts";
import { one, pascal } from "../output.ts";

const Me = graphql(`
  query CliMe {
    me { email displayName kind roles }
  }
`);

const userView = {
  properties: ["UserPrincipalName", "DisplayName", "Kind", "Roles", "Server"],
  table: ["UserPrincipalName", "DisplayName", "Kind", "Roles"],
};

async function whoAmI(api: Api) {
  const { me } = await api.request(Me);
  return one({
    UserPrincipalName: me.email,
    DisplayName: me.displayName,
    Kind: pascal(me.kind),
    Roles: (me.roles ?? []).map(pascal),
    Server: api.url,
  });
}

export const login = cmdlet({
  name: "login",
  synopsis: "Signs in: the identity provider's device code flow, or -As a demo user in development",
  examples: ["login", "login -Url https://elevate.fabrikam.com", "login -As requester@fabrikam.com"],
  parameters: {
    Url: text("The server (default: ELEVATE_URL, else the last one, else http://localhost:4000)"),
    As: text("Development only: sign in as this seeded user through the server's dev issuer"),
    Organization: text("With -As: the user's organization, when the address exists in several"),
  },
  view: userView,
  async run(values, { server, store, inform }) {
    const url = normalizeUrl(values.Url ?? server);
    const session = values.As
      ? await devSignIn(url, values.As, values.Organization)
      : await deviceSignIn(await signInConfig(url), inform);
    await store.save(url, session, { makeCurrent: true });
    inform(`Signed in to ${url}; the token is kept in ${store.file}`);
    return whoAmI(createApi(url, { token: async () => session.accessToken }));
  },
});

export const logout = cmdlet({
  name: "logout",
  synopsis: "Forgets the sign-in to the server",
  examples: ["logout"],
  parameters: { Url: text("The server (default: as for every command)") },
  view: null,
  async run(values, { server, store }) {
    const url = normalizeUrl(values.Url ?? server);
    const removed = await store.remove(url);
    return { kind: "message", text: removed ? `Signed out of ${url}` : `Not signed in to ${url}` };
  },
});

export const whoami = cmdlet({
  name: "whoami",
  synopsis: "Shows who the server takes you for",
  examples: ["whoami"],
  parameters: {},
  view: userView,
  run: (_values, { api }) => whoAmI(api),
});
