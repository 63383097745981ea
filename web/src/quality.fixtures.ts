/**
 * getStats() entries recorded from Debian Chromium (headless, fake camera and microphone) on a
 * loopback call: the receiving side 3 s and 8 s after connecting, and the sending side's RTCP view.
 * Trimmed to the fields the summary reads plus a few neighbours; ids and values as recorded.
 */
import type { StatsEntry } from './quality.ts';

export const CHROMIUM_RECEIVER_AT_3S: StatsEntry[] = [
  {
    "id": "CIT01_111_minptime=10;useinbandfec=1",
    "timestamp": 1795492620042.015,
    "type": "codec",
    "mimeType": "audio/opus",
    "payloadType": 111,
    "clockRate": 48000,
    "channels": 2,
    "sdpFmtpLine": "minptime=10;useinbandfec=1",
    "transportId": "T01"
  },
  {
    "id": "CIT01_96",
    "timestamp": 1795492620042.015,
    "type": "codec",
    "mimeType": "video/VP8",
    "payloadType": 96,
    "clockRate": 90000,
    "transportId": "T01"
  },
  {
    "id": "CPcZEdJXYL_AnLeu7jr",
    "timestamp": 1795492620042.015,
    "type": "candidate-pair",
    "transportId": "T01",
    "localCandidateId": "IcZEdJXYL",
    "remoteCandidateId": "IAnLeu7jr",
    "state": "succeeded",
    "nominated": false,
    "currentRoundTripTime": 0.001,
    "totalRoundTripTime": 0.001
  },
  {
    "id": "CPhR7H0iVY_/f08+HOq",
    "timestamp": 1795492620042.015,
    "type": "candidate-pair",
    "transportId": "T01",
    "localCandidateId": "IhR7H0iVY",
    "remoteCandidateId": "I/f08+HOq",
    "state": "succeeded",
    "nominated": false,
    "currentRoundTripTime": 0.002,
    "totalRoundTripTime": 0.002
  },
  {
    "id": "CPmOB12d9P_/f08+HOq",
    "timestamp": 1795492620042.015,
    "type": "candidate-pair",
    "transportId": "T01",
    "localCandidateId": "ImOB12d9P",
    "remoteCandidateId": "I/f08+HOq",
    "state": "succeeded",
    "nominated": false,
    "currentRoundTripTime": 0.001,
    "totalRoundTripTime": 0.001
  },
  {
    "id": "CPy+B8MfYk_AnLeu7jr",
    "timestamp": 1795492620042.015,
    "type": "candidate-pair",
    "transportId": "T01",
    "localCandidateId": "Iy+B8MfYk",
    "remoteCandidateId": "IAnLeu7jr",
    "state": "succeeded",
    "nominated": true,
    "currentRoundTripTime": 0.001,
    "totalRoundTripTime": 0.014
  },
  {
    "id": "IT01A1590473827",
    "timestamp": 1795492620042.015,
    "type": "inbound-rtp",
    "kind": "audio",
    "ssrc": 1590473827,
    "transportId": "T01",
    "codecId": "CIT01_111_minptime=10;useinbandfec=1",
    "packetsReceived": 149,
    "packetsLost": 0,
    "bytesReceived": 7204,
    "jitter": 0,
    "jitterBufferDelay": 0,
    "jitterBufferEmittedCount": 0
  },
  {
    "id": "IT01V635199163",
    "timestamp": 1795492620042.015,
    "type": "inbound-rtp",
    "kind": "video",
    "ssrc": 635199163,
    "transportId": "T01",
    "codecId": "CIT01_96",
    "packetsReceived": 189,
    "packetsLost": 0,
    "bytesReceived": 171573,
    "jitter": 0,
    "jitterBufferDelay": 0.32680899999999996,
    "jitterBufferEmittedCount": 58,
    "frameWidth": 640,
    "frameHeight": 480,
    "framesPerSecond": 20,
    "framesDecoded": 58
  },
  {
    "id": "ROA1590473827",
    "timestamp": 1795492619469.352,
    "type": "remote-outbound-rtp",
    "kind": "audio",
    "ssrc": 1590473827,
    "localId": "IT01A1590473827",
    "remoteTimestamp": 1795492619468.795
  },
  {
    "id": "ROV635199163",
    "timestamp": 1795492619875.676,
    "type": "remote-outbound-rtp",
    "kind": "video",
    "ssrc": 635199163,
    "localId": "IT01V635199163",
    "remoteTimestamp": 1795492619875.196
  },
  {
    "id": "T01",
    "timestamp": 1795492620042.015,
    "type": "transport",
    "dtlsState": "connected",
    "iceState": "connected",
    "selectedCandidatePairId": "CPy+B8MfYk_AnLeu7jr"
  }
];

export const CHROMIUM_RECEIVER_AT_8S: StatsEntry[] = [
  {
    "id": "CIT01_111_minptime=10;useinbandfec=1",
    "timestamp": 1795492625044.417,
    "type": "codec",
    "mimeType": "audio/opus",
    "payloadType": 111,
    "clockRate": 48000,
    "channels": 2,
    "sdpFmtpLine": "minptime=10;useinbandfec=1",
    "transportId": "T01"
  },
  {
    "id": "CIT01_96",
    "timestamp": 1795492625044.417,
    "type": "codec",
    "mimeType": "video/VP8",
    "payloadType": 96,
    "clockRate": 90000,
    "transportId": "T01"
  },
  {
    "id": "CPcZEdJXYL_AnLeu7jr",
    "timestamp": 1795492625044.417,
    "type": "candidate-pair",
    "transportId": "T01",
    "localCandidateId": "IcZEdJXYL",
    "remoteCandidateId": "IAnLeu7jr",
    "state": "succeeded",
    "nominated": false,
    "currentRoundTripTime": 0.001,
    "totalRoundTripTime": 0.001
  },
  {
    "id": "CPhR7H0iVY_/f08+HOq",
    "timestamp": 1795492625044.417,
    "type": "candidate-pair",
    "transportId": "T01",
    "localCandidateId": "IhR7H0iVY",
    "remoteCandidateId": "I/f08+HOq",
    "state": "succeeded",
    "nominated": false,
    "currentRoundTripTime": 0.002,
    "totalRoundTripTime": 0.002
  },
  {
    "id": "CPmOB12d9P_/f08+HOq",
    "timestamp": 1795492625044.417,
    "type": "candidate-pair",
    "transportId": "T01",
    "localCandidateId": "ImOB12d9P",
    "remoteCandidateId": "I/f08+HOq",
    "state": "succeeded",
    "nominated": false,
    "currentRoundTripTime": 0.001,
    "totalRoundTripTime": 0.001
  },
  {
    "id": "CPy+B8MfYk_AnLeu7jr",
    "timestamp": 1795492625044.417,
    "type": "candidate-pair",
    "transportId": "T01",
    "localCandidateId": "Iy+B8MfYk",
    "remoteCandidateId": "IAnLeu7jr",
    "state": "succeeded",
    "nominated": true,
    "currentRoundTripTime": 0.001,
    "totalRoundTripTime": 0.016
  },
  {
    "id": "IT01A1590473827",
    "timestamp": 1795492625044.417,
    "type": "inbound-rtp",
    "kind": "audio",
    "ssrc": 1590473827,
    "transportId": "T01",
    "codecId": "CIT01_111_minptime=10;useinbandfec=1",
    "packetsReceived": 399,
    "packetsLost": 0,
    "bytesReceived": 21958,
    "jitter": 0,
    "jitterBufferDelay": 0,
    "jitterBufferEmittedCount": 0
  },
  {
    "id": "IT01V635199163",
    "timestamp": 1795492625044.417,
    "type": "inbound-rtp",
    "kind": "video",
    "ssrc": 635199163,
    "transportId": "T01",
    "codecId": "CIT01_96",
    "packetsReceived": 508,
    "packetsLost": 0,
    "bytesReceived": 478810,
    "jitter": 0,
    "jitterBufferDelay": 1.013201,
    "jitterBufferEmittedCount": 158,
    "frameWidth": 640,
    "frameHeight": 480,
    "framesPerSecond": 20,
    "framesDecoded": 158
  },
  {
    "id": "ROA1590473827",
    "timestamp": 1795492619469.352,
    "type": "remote-outbound-rtp",
    "kind": "audio",
    "ssrc": 1590473827,
    "localId": "IT01A1590473827",
    "remoteTimestamp": 1795492619468.795
  },
  {
    "id": "ROV635199163",
    "timestamp": 1795492624811.538,
    "type": "remote-outbound-rtp",
    "kind": "video",
    "ssrc": 635199163,
    "localId": "IT01V635199163",
    "roundTripTime": 0.001343,
    "remoteTimestamp": 1795492624810.5771
  },
  {
    "id": "T01",
    "timestamp": 1795492625044.417,
    "type": "transport",
    "dtlsState": "connected",
    "iceState": "connected",
    "selectedCandidatePairId": "CPy+B8MfYk_AnLeu7jr"
  }
];

export const CHROMIUM_SENDER_RTCP: StatsEntry[] = [
  {
    "id": "RIA1590473827",
    "timestamp": 1795492624703.678,
    "type": "remote-inbound-rtp",
    "kind": "audio",
    "ssrc": 1590473827,
    "transportId": "T01",
    "codecId": "COT01_111_minptime=10;useinbandfec=1",
    "jitter": 0.000208,
    "packetsLost": 0,
    "fractionLost": 0,
    "localId": "OT01A1590473827",
    "roundTripTime": 0.001068
  },
  {
    "id": "RIV635199163",
    "timestamp": 1795492624578.556,
    "type": "remote-inbound-rtp",
    "kind": "video",
    "ssrc": 635199163,
    "transportId": "T01",
    "codecId": "COT01_96",
    "jitter": 0.0008439999999999999,
    "packetsLost": 0,
    "fractionLost": 0,
    "localId": "OT01V635199163",
    "roundTripTime": 0.001
  }
];
