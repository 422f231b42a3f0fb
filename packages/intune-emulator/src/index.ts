export const PACKAGE_NAME = '@scepkit/intune-emulator';
