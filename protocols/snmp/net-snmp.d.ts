// Minimal typings for the parts of npm `net-snmp` 3.29 that rigtel uses (the package ships none).
declare module 'net-snmp' {
  export interface Varbind {
    oid: string;
    type: number;
    value: unknown;
  }
  export type ResponseCallback<T> = (error: Error | null, result: T) => void;

  export interface SessionOptions {
    port?: number;
    retries?: number;
    timeout?: number;
    backoff?: number;
    transport?: 'udp4' | 'udp6';
    version?: number;
    idBitsSize?: number;
    context?: string;
    backwardsGetNexts?: boolean;
    reportOidMismatchErrors?: boolean;
  }

  export interface V3User {
    name: string;
    level: number;
    authProtocol?: number;
    authKey?: string;
    privProtocol?: number;
    privKey?: string;
  }

  export interface Session {
    get(oids: string[], cb: ResponseCallback<Varbind[]>): Session;
    getNext(oids: string[], cb: ResponseCallback<Varbind[]>): Session;
    getBulk(
      oids: string[],
      nonRepeaters: number,
      maxRepetitions: number,
      cb: ResponseCallback<Array<Varbind | Varbind[]>>,
    ): Session;
    close(): Session;
    on(event: 'error', cb: (err: Error) => void): Session;
    on(event: 'close', cb: () => void): Session;
  }

  export function createSession(target: string, community: string, options?: SessionOptions): Session;
  export function createV3Session(target: string, user: V3User, options?: SessionOptions): Session;
  export function isVarbindError(vb: Varbind): boolean;
  export function varbindError(vb: Varbind): string;

  export const Version1: number;
  export const Version2c: number;
  export const Version3: number;
  export const SecurityLevel: Record<'noAuthNoPriv' | 'authNoPriv' | 'authPriv', number>;
  export const AuthProtocols: Record<
    'none' | 'md5' | 'sha' | 'sha224' | 'sha256' | 'sha384' | 'sha512',
    number
  >;
  export const PrivProtocols: Record<'none' | 'des' | 'aes' | 'aes256b' | 'aes256r', number>;
  export const ObjectType: Record<
    | 'Boolean'
    | 'Integer'
    | 'OctetString'
    | 'Null'
    | 'OID'
    | 'IpAddress'
    | 'Counter'
    | 'Gauge'
    | 'TimeTicks'
    | 'Opaque'
    | 'Counter64'
    | 'NoSuchObject'
    | 'NoSuchInstance'
    | 'EndOfMibView',
    number
  >;
  export const ErrorStatus: Record<string, number>;
  export const MibProviderType: Record<'Scalar' | 'Table', number>;
  export const MaxAccess: Record<string, number>;
  export const AccessControlModelType: Record<'None' | 'Simple', number>;
  export const ResponseInvalidCode: Record<string, number>;

  export interface Mib {
    registerProvider(def: unknown): void;
    addTableRow(name: string, row: unknown[]): void;
    setTableSingleCell(name: string, column: number, rowIndex: unknown[], value: unknown): void;
    setScalarValue(name: string, value: unknown): void;
  }
  export interface Authorizer {
    addCommunity(community: string): void;
    addUser(user: V3User): void;
  }
  export interface Agent {
    getMib(): Mib;
    getAuthorizer(): Authorizer;
    close(cb?: () => void): void;
  }
  export function createAgent(
    options: {
      port?: number;
      address?: string | null;
      transport?: 'udp4' | 'udp6';
      disableAuthorization?: boolean;
      engineID?: string;
    },
    callback: (error: Error | null, data: unknown) => void,
  ): Agent;

  const snmp: {
    createSession: typeof createSession;
    createV3Session: typeof createV3Session;
    createAgent: typeof createAgent;
    isVarbindError: typeof isVarbindError;
    varbindError: typeof varbindError;
    Version1: number;
    Version2c: number;
    Version3: number;
    SecurityLevel: typeof SecurityLevel;
    AuthProtocols: typeof AuthProtocols;
    PrivProtocols: typeof PrivProtocols;
    ObjectType: typeof ObjectType;
    ErrorStatus: typeof ErrorStatus;
    MibProviderType: typeof MibProviderType;
    MaxAccess: typeof MaxAccess;
    AccessControlModelType: typeof AccessControlModelType;
    ResponseInvalidCode: typeof ResponseInvalidCode;
  };
  export default snmp;
}
