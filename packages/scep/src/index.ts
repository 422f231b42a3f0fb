export const PACKAGE_NAME = '@scepkit/scep';
