export const PACKAGE_NAME = '@scepkit/server';
