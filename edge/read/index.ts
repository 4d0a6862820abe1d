/** Reading stage: OCR engines and the consensus that turns their reads into one. */
export * from './types.js';
export { FastPlateOcrReader, decodeSlots, meanOfGroups, FAST_PLATE_ALPHABET } from './fast-plate-ocr.js';
export { PaddleOcrReader, ctcDecodePlate, classGroups } from './paddle-ocr.js';
export { TesseractReader, tesseractLangPath } from './tesseract.js';
export { vote, DEFAULT_TRUST, type Ballot, type ConsensusOptions, type ConsensusResult, type PositionVote, type EngineTrust, type TrustTable } from './consensus.js';
export { align, plateDistance } from './align.js';
