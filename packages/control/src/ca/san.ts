// The SAN parser lives in @dmr/shared so the server (which verifies agent certificates) and the CA
// toolkit (which issues them) read identities with the same code.
export { type AltName, agentIdFromCertificate, agentIdFromSubjectAltName, parseSubjectAltName } from '@dmr/shared/base';
