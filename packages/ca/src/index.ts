export const PACKAGE_NAME = '@scepkit/ca';
