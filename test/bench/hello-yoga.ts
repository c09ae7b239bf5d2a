import { createServer } from "node:http";
import { createSchema, createYoga } from "graphql-yoga";

// The baseline of `npm run bench`: graphql-yoga's hello world, nothing else, on PORT.
const yoga = createYoga({
  schema: createSchema({ typeDefs: "type Query { hello: String! }", resolvers: { Query: { hello: () => "world" } } }),
  logging: false,
  graphiql: false,
  landingPage: false,
});
const server = createServer(yoga);
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const address = server.address();
  console.log(
    JSON.stringify({ level: 30, msg: "listening", port: typeof address === "object" ? address?.port : null }),
  );
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
