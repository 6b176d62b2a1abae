/**
 * @tidemark/deploy-tests holds no runtime code: its tests (test/deploy.test.ts)
 * validate the files in deploy/ and docs/deployment.md's promises about them.
 */
export const DEPLOY_DIR = 'deploy';
