import { collect, expectType } from "../client.ts";
import { cmdlet, resultSize, text } from "../cmdlet.ts";
import { graphql } from "../graphql/gql.ts";
import type { VendorFieldsFragment } from "../graphql/graphql.ts";
import { many, one, type Row, type View } from "../output.ts";

// Customer Lockbox vendors: a vendor's support identity (a service principal of the
// organization's identity provider) registered by its object ID. Its requests are
// listed with Get-ElevatedAccessRequest -CustomerLockbox.

graphql(`
  fragment VendorFields on User {
    identity
    vendorName
    displayName
    email
    active
    createdAt
  }
`);

const vendorView: View = {
  properties: ["VendorName", "DisplayName", "UserPrincipalName", "Enabled", "Identity", "WhenCreated"],
  table: ["VendorName", "DisplayName", "Enabled"],
};

function vendorRow(vendor: VendorFieldsFragment): Row {
  return {
    VendorName: vendor.vendorName ?? null,
    DisplayName: vendor.displayName,
    UserPrincipalName: vendor.email,
    Enabled: vendor.active,
    Identity: vendor.identity,
    WhenCreated: vendor.createdAt,
  };
}

const RegisterVendor = graphql(`
  mutation CliRegisterVendor($input: RegisterLockboxVendorInput!) {
    registerLockboxVendor(input: $input) {
      __typename
      ... on User { ...VendorFields }
      ... on Error { code message }
      ... on ValidationError { field }
    }
  }
`);

export const newVendor = cmdlet({
  name: "New-CustomerLockboxVendor",
  synopsis: "Registers a vendor's support identity for Customer Lockbox (admins)",
  examples: ["New-CustomerLockboxVendor -VendorName 'Contoso Support' -ObjectId 6f1c2a0e-8d4b-4f3e-9a7c-2b5d1e0f9c31"],
  parameters: {
    VendorName: text("The vendor, e.g. 'Contoso Support'", { mandatory: true }),
    ObjectId: text("The vendor's service identity at the identity provider: the oid (else sub) of its tokens", {
      mandatory: true,
      aliases: ["Subject"],
    }),
    DisplayName: text("Shown instead of '<VendorName> support'"),
  },
  view: vendorView,
  async run(values, { api }) {
    const data = await api.request(RegisterVendor, {
      input: { vendorName: values.VendorName, subject: values.ObjectId, displayName: values.DisplayName ?? null },
    });
    return one(vendorRow(expectType(data.registerLockboxVendor, "User")));
  },
});

const Vendors = graphql(`
  query CliVendors($first: Int, $after: String) {
    users(filter: { vendor: true }, first: $first, after: $after) {
      edges { node { ...VendorFields } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const getVendor = cmdlet({
  name: "Get-CustomerLockboxVendor",
  synopsis: "Lists the vendors registered for Customer Lockbox (admins, auditors)",
  examples: ["Get-CustomerLockboxVendor"],
  parameters: { ResultSize: resultSize("At most this many (default 1000), or Unlimited") },
  view: vendorView,
  async run(values, { api }) {
    const vendors = await collect(values.ResultSize ?? 1000, async (first, after) => {
      return (await api.request(Vendors, { first, after })).users;
    });
    return many(vendors.map(vendorRow));
  },
});
