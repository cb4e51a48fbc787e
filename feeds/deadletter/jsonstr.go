package deadletter

import (
	"encoding/base64"
)

// base64Append appends the standard, padded base64 encoding of b.
func base64Append(dst, b []byte) []byte {
	return base64.StdEncoding.AppendEncode(dst, b)
}
