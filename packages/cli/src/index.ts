export const PACKAGE_NAME = '@scepkit/cli';
