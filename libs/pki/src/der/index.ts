// DER encoding and strict reading, for the libraries that write or read ASN.1 structures by hand.
export * from './der';
