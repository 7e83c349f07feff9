// Package deploy holds the files that run netsmith as several processes:
// nginx.conf, compose.yaml, kubernetes/, systemd/, prometheus/ and
// grafana/ (README.md). It has no code; its tests check those files with
// the tools that read them (nginx -t, promtool, systemd-analyze) and check
// every metric they name against what `netsmith serve` exports.
package deploy
