package fleet

import (
	opametrics "github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/plugins/logs"
	"github.com/prometheus/client_golang/prometheus"
)

// The decision-log plugin's counters (v1/plugins/logs), read at scrape time.
// The size buffer increments both dropped counters on each drop, the event
// buffer only the first: buffer_full is their maximum, not their sum.
const (
	opaDroppedEvents = "decision_logs_dropped_buffer_size_limit_exceeded"
	opaDroppedBytes  = "decision_logs_dropped_buffer_size_limit_bytes_exceeded"
	opaDroppedRate   = "decision_logs_dropped_rate_limit_exceeded"
	opaEncodingFail  = "decision_logs_encoding_failure"
	opaUploaded      = "decision_logs_chunks_uploaded"
	opaUploadFailed  = "decision_logs_chunks_upload_failed"
)

var (
	droppedDesc = prometheus.NewDesc("dockward_decision_log_dropped_total",
		"Decision-log events the decision-log plugin dropped, by reason (buffer_full: the collector was unreachable longer than the buffer lasts; counted in events for buffer_type event, in drops of whole chunks for size). The local audit log still has them.",
		[]string{"reason"}, nil)
	uploadsDesc = prometheus.NewDesc("dockward_decision_log_uploads_total",
		"Decision-log chunk uploads to the collector, by result.", []string{"result"}, nil)
	bufferedDesc = prometheus.NewDesc("dockward_decision_log_buffered",
		"What waits in the decision-log buffer for upload, in the buffer's unit (events or bytes).", []string{"unit"}, nil)
)

// logStats exports the decision-log plugin's counters as Prometheus metrics.
type logStats struct {
	plugin *logs.Plugin
	m      opametrics.Metrics
}

func (s *logStats) Describe(ch chan<- *prometheus.Desc) {
	ch <- droppedDesc
	ch <- uploadsDesc
	ch <- bufferedDesc
}

func (s *logStats) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(droppedDesc, prometheus.CounterValue, max(s.count(opaDroppedEvents), s.count(opaDroppedBytes)), "buffer_full")
	ch <- prometheus.MustNewConstMetric(droppedDesc, prometheus.CounterValue, s.count(opaDroppedRate), "rate_limit")
	ch <- prometheus.MustNewConstMetric(droppedDesc, prometheus.CounterValue, s.count(opaEncodingFail), "encoding")
	ch <- prometheus.MustNewConstMetric(uploadsDesc, prometheus.CounterValue, s.count(opaUploaded), "ok")
	ch <- prometheus.MustNewConstMetric(uploadsDesc, prometheus.CounterValue, s.count(opaUploadFailed), "failed")
	kind, size := s.plugin.BufferSize()
	unit := "bytes"
	if kind == "event" {
		unit = "events"
	}
	ch <- prometheus.MustNewConstMetric(bufferedDesc, prometheus.GaugeValue, float64(size), unit)
}

func (s *logStats) count(name string) float64 {
	if v, ok := s.m.Counter(name).Value().(uint64); ok {
		return float64(v)
	}
	return 0
}
