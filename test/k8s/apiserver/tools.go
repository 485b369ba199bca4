//go:build tools

// Keeps kube-apiserver's packages in go.mod/go.sum (built with `go build k8s.io/kubernetes/cmd/kube-apiserver`).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
