declare module 'des.js' {
  interface CipherInstance {
    update(data: number[] | Uint8Array): number[];
    final(): number[];
  }
  interface CipherFactory {
    create(opts: {
      type: 'encrypt' | 'decrypt';
      key: number[] | Uint8Array;
      iv?: number[] | Uint8Array;
      padding?: boolean;
    }): CipherInstance;
  }
  const des: {
    DES: CipherFactory;
    EDE: CipherFactory;
    CBC: { instantiate(base: CipherFactory): CipherFactory };
  };
  export default des;
}
