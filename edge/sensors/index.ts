/**
 * Serial sensors (issue 10): TPMS and RFID readers on serial ports, each keeping a short
 * time-indexed memory of readings for the pass being decided, each supervising its port
 * (a device that disappears is reported with a stable code and reopened with backoff).
 */
export { TpmsReader, parseTpmsLine, tpmsState, toTpmsStatus, TPMS_STATES, type TpmsReading, type TpmsState, type TpmsValues } from './tpms.js';
export { RfidReader, parseRfidLine, Rdm6300Framer, rdm6300Frame, rdm6300Checksum, type RfidReading } from './rfid.js';
export { SensorErrorCode, type SensorNotice } from './serial-device.js';
export { ReadingBuffer } from './reading-buffer.js';
