/**
 * getStats() entries recorded from Debian Chromium (headless, fake camera and microphone) on a
 * loopback call: the receiving side 3 s and 8 s after connecting, and the sending side's RTCP view.
 * Then a meeting of three on a local mediasoup node: one participant's mediasoup-client recv and
 * send transports, sampled 5.1 s apart (two audio and two video consumers from two peers, plus
 * mediasoup's `probator` stream; the camera sent as three simulcast layers).
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

export const MEDIASOUP_RECV_AT_0S: StatsEntry[] = [
  {
    "id": "CIT01_100_minptime=10;useinbandfec=1",
    "timestamp": 1795494286568.048,
    "type": "codec",
    "mimeType": "audio/opus",
    "payloadType": 100,
    "clockRate": 48000,
    "channels": 2,
    "sdpFmtpLine": "minptime=10;useinbandfec=1",
    "transportId": "T01"
  },
  {
    "id": "CIT01_101",
    "timestamp": 1795494286568.048,
    "type": "codec",
    "mimeType": "video/VP8",
    "payloadType": 101,
    "clockRate": 90000,
    "transportId": "T01"
  },
  {
    "id": "CP2sTtCxFe_T754ro2g",
    "timestamp": 1795494286568.048,
    "type": "candidate-pair",
    "transportId": "T01",
    "localCandidateId": "I2sTtCxFe",
    "remoteCandidateId": "IT754ro2g",
    "state": "succeeded",
    "nominated": true,
    "currentRoundTripTime": 0.065,
    "totalRoundTripTime": 0.085
  },
  {
    "id": "CPIjjTpLpa_O+FVoq0j",
    "timestamp": 1795494286568.048,
    "type": "candidate-pair",
    "transportId": "T01",
    "localCandidateId": "IIjjTpLpa",
    "remoteCandidateId": "IO+FVoq0j",
    "state": "waiting",
    "nominated": false,
    "totalRoundTripTime": 0
  },
  {
    "id": "CPZ6J8gKAh_T754ro2g",
    "timestamp": 1795494286568.048,
    "type": "candidate-pair",
    "transportId": "T01",
    "localCandidateId": "IZ6J8gKAh",
    "remoteCandidateId": "IT754ro2g",
    "state": "in-progress",
    "nominated": true,
    "currentRoundTripTime": 0.049,
    "totalRoundTripTime": 0.063
  },
  {
    "id": "IT01A422710802",
    "timestamp": 1795494286568.048,
    "type": "inbound-rtp",
    "kind": "audio",
    "mid": "0",
    "trackIdentifier": "59b5aae2-a0c4-4409-b9f4-774cd65528e8",
    "ssrc": 422710802,
    "transportId": "T01",
    "codecId": "CIT01_100_minptime=10;useinbandfec=1",
    "packetsReceived": 120,
    "packetsLost": 0,
    "bytesReceived": 7427,
    "jitter": 0.015
  },
  {
    "id": "IT01A894758266",
    "timestamp": 1795494286568.048,
    "type": "inbound-rtp",
    "kind": "audio",
    "mid": "1",
    "trackIdentifier": "fb656b76-26db-4638-9893-eaee275e86fb",
    "ssrc": 894758266,
    "transportId": "T01",
    "codecId": "CIT01_100_minptime=10;useinbandfec=1",
    "packetsReceived": 106,
    "packetsLost": 0,
    "bytesReceived": 6447,
    "jitter": 0.015
  },
  {
    "id": "IT01V722320856",
    "timestamp": 1795494286568.048,
    "type": "inbound-rtp",
    "kind": "video",
    "mid": "2",
    "trackIdentifier": "7ca51cb3-6619-4597-9dd6-dc8f09503d43",
    "ssrc": 722320856,
    "transportId": "T01",
    "codecId": "CIT01_101",
    "packetsReceived": 7,
    "packetsLost": 0,
    "bytesReceived": 6191,
    "jitter": 0,
    "frameWidth": 480,
    "frameHeight": 270,
    "framesPerSecond": 4,
    "framesDecoded": 3
  },
  {
    "id": "T01",
    "timestamp": 1795494286568.048,
    "type": "transport",
    "dtlsState": "connected",
    "iceState": "connected",
    "selectedCandidatePairId": "CPZ6J8gKAh_T754ro2g"
  }
];

export const MEDIASOUP_SEND_AT_0S: StatsEntry[] = [
  {
    "id": "COT01_111_usedtx=1;useinbandfec=1",
    "timestamp": 1795494286567.108,
    "type": "codec",
    "mimeType": "audio/opus",
    "payloadType": 111,
    "clockRate": 48000,
    "channels": 2,
    "sdpFmtpLine": "usedtx=1;useinbandfec=1",
    "transportId": "T01"
  },
  {
    "id": "COT01_96_x-google-start-bitrate=1000",
    "timestamp": 1795494286567.108,
    "type": "codec",
    "mimeType": "video/VP8",
    "payloadType": 96,
    "clockRate": 90000,
    "sdpFmtpLine": "x-google-start-bitrate=1000",
    "transportId": "T01"
  },
  {
    "id": "CPEHbBFtQ/_4JxSWYcw",
    "timestamp": 1795494286567.108,
    "type": "candidate-pair",
    "transportId": "T01",
    "localCandidateId": "IEHbBFtQ/",
    "remoteCandidateId": "I4JxSWYcw",
    "state": "succeeded",
    "nominated": true,
    "currentRoundTripTime": 0.021,
    "totalRoundTripTime": 0.125
  },
  {
    "id": "CPO8NZlRIf_4JxSWYcw",
    "timestamp": 1795494286567.108,
    "type": "candidate-pair",
    "transportId": "T01",
    "localCandidateId": "IO8NZlRIf",
    "remoteCandidateId": "I4JxSWYcw",
    "state": "succeeded",
    "nominated": true,
    "currentRoundTripTime": 0.004,
    "totalRoundTripTime": 0.013
  },
  {
    "id": "RIA3308999284",
    "timestamp": 1795494282750.238,
    "type": "remote-inbound-rtp",
    "kind": "audio",
    "ssrc": 3308999284,
    "transportId": "T01",
    "codecId": "COT01_111_usedtx=1;useinbandfec=1",
    "jitter": 0.014166,
    "packetsLost": 0,
    "fractionLost": 0,
    "localId": "OT01A3308999284",
    "roundTripTime": 0.005081
  },
  {
    "id": "RIV1161339402",
    "timestamp": 1795494286278.54,
    "type": "remote-inbound-rtp",
    "kind": "video",
    "ssrc": 1161339402,
    "transportId": "T01",
    "codecId": "COT01_96_x-google-start-bitrate=1000",
    "jitter": 0.030677,
    "packetsLost": 0,
    "fractionLost": 0,
    "localId": "OT01V1161339402",
    "roundTripTime": 0.031280999999999996
  },
  {
    "id": "RIV3299034232",
    "timestamp": 1795494286278.554,
    "type": "remote-inbound-rtp",
    "kind": "video",
    "ssrc": 3299034232,
    "transportId": "T01",
    "codecId": "COT01_96_x-google-start-bitrate=1000",
    "jitter": 0.017877,
    "packetsLost": 0,
    "fractionLost": 0,
    "localId": "OT01V3299034232",
    "roundTripTime": 0.02153
  },
  {
    "id": "RIV976770729",
    "timestamp": 1795494286278.556,
    "type": "remote-inbound-rtp",
    "kind": "video",
    "ssrc": 976770729,
    "transportId": "T01",
    "codecId": "COT01_96_x-google-start-bitrate=1000",
    "jitter": 0.009455,
    "packetsLost": 0,
    "fractionLost": 0,
    "localId": "OT01V976770729",
    "roundTripTime": 0.014038
  },
  {
    "id": "T01",
    "timestamp": 1795494286567.108,
    "type": "transport",
    "dtlsState": "connected",
    "iceState": "connected",
    "selectedCandidatePairId": "CPEHbBFtQ/_4JxSWYcw"
  }
];

export const MEDIASOUP_RECV_AT_5S: StatsEntry[] = [
  {
    "id": "CIT01_100_minptime=10;useinbandfec=1",
    "timestamp": 1795494291691.262,
    "type": "codec",
    "mimeType": "audio/opus",
    "payloadType": 100,
    "clockRate": 48000,
    "channels": 2,
    "sdpFmtpLine": "minptime=10;useinbandfec=1",
    "transportId": "T01"
  },
  {
    "id": "CIT01_101",
    "timestamp": 1795494291691.262,
    "type": "codec",
    "mimeType": "video/VP8",
    "payloadType": 101,
    "clockRate": 90000,
    "transportId": "T01"
  },
  {
    "id": "CP2sTtCxFe_T754ro2g",
    "timestamp": 1795494291691.262,
    "type": "candidate-pair",
    "transportId": "T01",
    "localCandidateId": "I2sTtCxFe",
    "remoteCandidateId": "IT754ro2g",
    "state": "succeeded",
    "nominated": true,
    "currentRoundTripTime": 0.065,
    "totalRoundTripTime": 0.085
  },
  {
    "id": "CPIjjTpLpa_O+FVoq0j",
    "timestamp": 1795494291691.262,
    "type": "candidate-pair",
    "transportId": "T01",
    "localCandidateId": "IIjjTpLpa",
    "remoteCandidateId": "IO+FVoq0j",
    "state": "waiting",
    "nominated": false,
    "totalRoundTripTime": 0
  },
  {
    "id": "CPZ6J8gKAh_T754ro2g",
    "timestamp": 1795494291691.262,
    "type": "candidate-pair",
    "transportId": "T01",
    "localCandidateId": "IZ6J8gKAh",
    "remoteCandidateId": "IT754ro2g",
    "state": "succeeded",
    "nominated": true,
    "currentRoundTripTime": 0.003,
    "totalRoundTripTime": 0.076
  },
  {
    "id": "IT01A422710802",
    "timestamp": 1795494291691.262,
    "type": "inbound-rtp",
    "kind": "audio",
    "mid": "0",
    "trackIdentifier": "59b5aae2-a0c4-4409-b9f4-774cd65528e8",
    "ssrc": 422710802,
    "transportId": "T01",
    "codecId": "CIT01_100_minptime=10;useinbandfec=1",
    "packetsReceived": 376,
    "packetsLost": 0,
    "bytesReceived": 23294,
    "jitter": 0.003
  },
  {
    "id": "IT01A894758266",
    "timestamp": 1795494291691.262,
    "type": "inbound-rtp",
    "kind": "audio",
    "mid": "1",
    "trackIdentifier": "fb656b76-26db-4638-9893-eaee275e86fb",
    "ssrc": 894758266,
    "transportId": "T01",
    "codecId": "CIT01_100_minptime=10;useinbandfec=1",
    "packetsReceived": 363,
    "packetsLost": 0,
    "bytesReceived": 22727,
    "jitter": 0.006
  },
  {
    "id": "IT01V1234",
    "timestamp": 1795494291691.262,
    "type": "inbound-rtp",
    "kind": "video",
    "mid": "probator",
    "trackIdentifier": "probator",
    "ssrc": 1234,
    "transportId": "T01",
    "packetsReceived": 32,
    "packetsLost": 0,
    "bytesReceived": 10912,
    "jitter": 0.12,
    "framesDecoded": 0
  },
  {
    "id": "IT01V174993393",
    "timestamp": 1795494291691.262,
    "type": "inbound-rtp",
    "kind": "video",
    "mid": "3",
    "trackIdentifier": "638f6d43-aeb7-44e7-a99e-20947f8b129c",
    "ssrc": 174993393,
    "transportId": "T01",
    "codecId": "CIT01_101",
    "packetsReceived": 40,
    "packetsLost": 0,
    "bytesReceived": 31888,
    "jitter": 0.008,
    "frameWidth": 240,
    "frameHeight": 135,
    "framesPerSecond": 16,
    "framesDecoded": 36
  },
  {
    "id": "IT01V722320856",
    "timestamp": 1795494291691.262,
    "type": "inbound-rtp",
    "kind": "video",
    "mid": "2",
    "trackIdentifier": "7ca51cb3-6619-4597-9dd6-dc8f09503d43",
    "ssrc": 722320856,
    "transportId": "T01",
    "codecId": "CIT01_101",
    "packetsReceived": 91,
    "packetsLost": 0,
    "bytesReceived": 78633,
    "jitter": 0.016,
    "frameWidth": 480,
    "frameHeight": 270,
    "framesPerSecond": 4,
    "framesDecoded": 42
  },
  {
    "id": "T01",
    "timestamp": 1795494291691.262,
    "type": "transport",
    "dtlsState": "connected",
    "iceState": "connected",
    "selectedCandidatePairId": "CPZ6J8gKAh_T754ro2g"
  }
];

export const MEDIASOUP_SEND_AT_5S: StatsEntry[] = [
  {
    "id": "COT01_111_usedtx=1;useinbandfec=1",
    "timestamp": 1795494291673.79,
    "type": "codec",
    "mimeType": "audio/opus",
    "payloadType": 111,
    "clockRate": 48000,
    "channels": 2,
    "sdpFmtpLine": "usedtx=1;useinbandfec=1",
    "transportId": "T01"
  },
  {
    "id": "COT01_96_x-google-start-bitrate=1000",
    "timestamp": 1795494291673.79,
    "type": "codec",
    "mimeType": "video/VP8",
    "payloadType": 96,
    "clockRate": 90000,
    "sdpFmtpLine": "x-google-start-bitrate=1000",
    "transportId": "T01"
  },
  {
    "id": "CPEHbBFtQ/_4JxSWYcw",
    "timestamp": 1795494291673.79,
    "type": "candidate-pair",
    "transportId": "T01",
    "localCandidateId": "IEHbBFtQ/",
    "remoteCandidateId": "I4JxSWYcw",
    "state": "succeeded",
    "nominated": true,
    "currentRoundTripTime": 0.003,
    "totalRoundTripTime": 0.141
  },
  {
    "id": "CPO8NZlRIf_4JxSWYcw",
    "timestamp": 1795494291673.79,
    "type": "candidate-pair",
    "transportId": "T01",
    "localCandidateId": "IO8NZlRIf",
    "remoteCandidateId": "I4JxSWYcw",
    "state": "succeeded",
    "nominated": true,
    "currentRoundTripTime": 0.004,
    "totalRoundTripTime": 0.013
  },
  {
    "id": "RIA3308999284",
    "timestamp": 1795494287582.58,
    "type": "remote-inbound-rtp",
    "kind": "audio",
    "ssrc": 3308999284,
    "transportId": "T01",
    "codecId": "COT01_111_usedtx=1;useinbandfec=1",
    "jitter": 0.008541,
    "packetsLost": 0,
    "fractionLost": 0,
    "localId": "OT01A3308999284",
    "roundTripTime": 0.015106
  },
  {
    "id": "RIV1161339402",
    "timestamp": 1795494291591.13,
    "type": "remote-inbound-rtp",
    "kind": "video",
    "ssrc": 1161339402,
    "transportId": "T01",
    "codecId": "COT01_96_x-google-start-bitrate=1000",
    "jitter": 0.016255,
    "packetsLost": 0,
    "fractionLost": 0,
    "localId": "OT01V1161339402",
    "roundTripTime": 0.001144
  },
  {
    "id": "RIV3299034232",
    "timestamp": 1795494291591.142,
    "type": "remote-inbound-rtp",
    "kind": "video",
    "ssrc": 3299034232,
    "transportId": "T01",
    "codecId": "COT01_96_x-google-start-bitrate=1000",
    "jitter": 0.006621999999999999,
    "packetsLost": 0,
    "fractionLost": 0,
    "localId": "OT01V3299034232",
    "roundTripTime": 0.001083
  },
  {
    "id": "RIV976770729",
    "timestamp": 1795494291591.144,
    "type": "remote-inbound-rtp",
    "kind": "video",
    "ssrc": 976770729,
    "transportId": "T01",
    "codecId": "COT01_96_x-google-start-bitrate=1000",
    "jitter": 0.003633,
    "packetsLost": 0,
    "fractionLost": 0,
    "localId": "OT01V976770729",
    "roundTripTime": 0.001
  },
  {
    "id": "T01",
    "timestamp": 1795494291673.79,
    "type": "transport",
    "dtlsState": "connected",
    "iceState": "connected",
    "selectedCandidatePairId": "CPEHbBFtQ/_4JxSWYcw"
  }
];
