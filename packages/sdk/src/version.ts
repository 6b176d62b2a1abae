/** This SDK's version, sent in the User-Agent. A unit test keeps it equal to package.json's. */
export const SDK_VERSION = '0.1.0';
