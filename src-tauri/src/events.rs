//! What the core tells its front ends (the window, the CLI, tests) as things happen.
//!
//! Tauri events are fire-and-forget, so every event carries a `seq` that rises by one: a
//! front end that sees a gap, or that (re)starts, asks for a snapshot instead of trusting
//! that it heard everything.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;
use ts_rs::TS;

use crate::exams::ItemView;

/// What happened, without its sequence number.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventBody {
    /// An answer changed state (queued, grading, done, failed, …): carries its whole view.
    Item { item: ItemView },
    /// The queue's progress, pauses and provider state changed (coalesced: a few a second).
    Queue { status: crate::queue::QueueStatus },
    /// The core is alive; the UI shows "Live" while these keep coming.
    Heartbeat { at_ms: i64 },
    /// Something the UI lists changed in bulk (an import, another process's work): refetch.
    Changed { what: Changed },
}

/// What a `changed` event asks front ends to refetch.
#[derive(Debug, Clone, Copy, Serialize, TS, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Changed {
    Exams,
    Submissions,
    /// Pauses and the queue's state.
    Queue,
    /// A batch was sent, changed state, or its results are in (refetch `batch_overview`).
    Batches,
    /// The roster or a script's student changed (a name read, a match made or undone):
    /// refetch the matching screen and the lists that name students.
    Roster,
    /// Anything: another process changed the data.
    All,
}

/// An event as delivered: `seq` first, then the body's fields.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
pub struct Event {
    pub seq: u64,
    #[serde(flatten)]
    pub body: EventBody,
}

/// A destination for events: the desktop emits Tauri events, tests collect them.
pub trait EventSink: Send + Sync {
    /// Called in `seq` order, one event at a time.
    fn deliver(&self, event: &Event);
}

/// Numbers events and hands them to every sink, in order.
#[derive(Default)]
pub struct EventHub {
    seq: AtomicU64,
    sinks: RwLock<Vec<Arc<dyn EventSink>>>,
    order: Mutex<()>,
}

impl EventHub {
    /// A hub with no sinks yet; events emitted before a sink is added only advance `seq`.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Adds a destination for all later events.
    pub fn add_sink(&self, sink: Arc<dyn EventSink>) {
        self.sinks
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(sink);
    }

    /// The `seq` of the last event emitted; a snapshot taken after reading it covers it.
    pub fn current_seq(&self) -> u64 {
        self.seq.load(Ordering::SeqCst)
    }

    /// Numbers and delivers one event. Serialised so sinks see `seq` strictly in order.
    pub fn emit(&self, body: EventBody) -> u64 {
        let _in_order = self.order.lock().unwrap_or_else(|p| p.into_inner());
        let seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        let event = Event { seq, body };
        for sink in self.sinks.read().unwrap_or_else(|p| p.into_inner()).iter() {
            sink.deliver(&event);
        }
        seq
    }
}

/// A sink that keeps every event: for tests and for the CLI's summaries.
#[derive(Default)]
pub struct CollectingSink {
    events: Mutex<Vec<Event>>,
}

impl CollectingSink {
    /// Everything delivered so far.
    pub fn events(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl EventSink for CollectingSink {
    fn deliver(&self, event: &Event) {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(event.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_rises_by_one_and_serialises_flat() {
        let hub = EventHub::new();
        let sink = Arc::new(CollectingSink::default());
        hub.add_sink(sink.clone());
        hub.emit(EventBody::Heartbeat { at_ms: 5 });
        hub.emit(EventBody::Changed {
            what: Changed::Submissions,
        });
        let events = sink.events();
        assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(hub.current_seq(), 2);
        let json = serde_json::to_value(&events[0]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"seq": 1, "type": "heartbeat", "at_ms": 5})
        );
    }
}
