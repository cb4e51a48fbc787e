// Package models holds no code of its own: its sub-packages are what things
// are in creditd, one package per format, pure data and validation with no
// I/O, importing nothing of ours outside models/:
//
//   - uscc: the unified social credit code (GB 32100-2015), both check
//     characters, pilot-era exceptions, the packed form;
//   - civil: calendar dates in China Standard Time and the RFC 3339 instant
//     parser;
//   - event: credit-event/v1 and its strict decoder;
//   - record: record categories and their publicity and repair rules;
//   - tier: tier schemes and the tier-change message;
//   - draw: draw/v1 and draw/v2 documents;
//   - report: credit-report/v1, its signing and verification;
//   - deadletter: the dead-letter record;
//   - jsontext: the one JSON scanner and string encoder; jcs: RFC 8785;
//   - testenv: how tests treat a missing tool (fail under CI).
package models
