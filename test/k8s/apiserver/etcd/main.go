// etcd's own entry point (go.etcd.io/etcd/v3's main.go calls the same function), so the etcd binary the
// tests run is the etcd server built from the Go module proxy.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
