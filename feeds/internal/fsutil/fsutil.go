// Package fsutil holds the file-system helpers the feeds packages share.
//
// It is internal to feeds/ (Go's internal rule: only packages under feeds/
// can import it), so sharing it does not make one feed depend on another,
// and scoring, sampler and models cannot come to depend on feeds through
// it. Packages outside feeds/ that need the same few lines keep their own
// copy rather than import across layers.
package fsutil

import "os"

// SyncDir fsyncs the directory dir, making the creation, removal or
// renaming of its entries durable. A close error is reported when the sync
// succeeded.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
