//! One step of a schedule, played on the world and judged by the model.

use std::time::Duration;

use zkurator::{HoldStatus, LockError, MultiLock};

use crate::common;
use crate::ops::{Op, Target, Wait};
use crate::spec::State;
use crate::world::{Guard, Live, World};

/// The small timeout of `Wait::Small`.
pub const SMALL: Duration = Duration::from_millis(40);

type Acquiring = std::pin::Pin<Box<dyn std::future::Future<Output = zkurator::Result<Guard>> + Send>>;

/// An acquire as a `'static` future (so it can be dropped on another thread).
fn acquiring(world: &World, session: u8, target: Target, timeout: Option<Duration>, via_clone: bool) -> Acquiring {
    let handles = &world.sessions[session as usize];
    match target {
        Target::Mutex(p) => {
            let m: zkurator::Mutex = pick(&handles.mutexes[p as usize], via_clone).clone();
            Box::pin(async move {
                match timeout {
                    Some(Duration::ZERO) => m.try_lock().await,
                    Some(t) => m.lock_timeout(t).await,
                    None => m.lock().await,
                }
                .map(Guard::Mutex)
            })
        }
        Target::Read | Target::Write => {
            let rw: zkurator::ReadWriteLock = pick(&handles.rw, via_clone).clone();
            Box::pin(async move {
                match (target, timeout) {
                    (Target::Read, Some(t)) => rw.read_timeout(t).await.map(Guard::Read),
                    (Target::Read, None) => rw.read().await.map(Guard::Read),
                    (_, Some(t)) => rw.write_timeout(t).await.map(Guard::Write),
                    (_, None) => rw.write().await.map(Guard::Write),
                }
            })
        }
        Target::Lease => {
            let sem: zkurator::Semaphore = pick(&handles.semaphore, via_clone).clone();
            Box::pin(async move {
                match timeout {
                    Some(t) => sem.acquire_timeout(t).await,
                    None => sem.acquire().await,
                }
                .map(Guard::Lease)
            })
        }
    }
}

/// The handle or its clone.
fn pick<T>(pair: &(T, T), via_clone: bool) -> &T {
    if via_clone {
        &pair.1
    } else {
        &pair.0
    }
}

/// Plays `op`; `Err` says how the library disagreed with the model.
pub async fn play(world: &mut World, op: &Op) -> Result<(), String> {
    match op {
        Op::Acquire { session, target, wait, via_clone } => {
            let free = world.model.is_free(*target);
            let timeout = match (wait, free) {
                (Wait::Try | Wait::Zero, _) => Some(Duration::ZERO),
                (Wait::Small, _) | (Wait::Huge, false) => Some(SMALL),
                (Wait::Huge, true) => Some(Duration::MAX),
            };
            let result = acquiring(world, *session, *target, timeout, *via_clone).await;
            match (free, result) {
                (true, Ok(guard)) => grant(world, *session, *target, guard),
                (false, Err(LockError::WouldBlock)) if timeout == Some(Duration::ZERO) => Ok(()),
                (false, Err(LockError::Timeout(t))) if t == SMALL && timeout == Some(SMALL) => Ok(()),
                (free, got) => Err(format!("acquire answered {got:?}; the model says free = {free}")),
            }
        }
        Op::Cancel { session, target, after_ms, on_thread } => {
            let free = world.model.is_free(*target);
            let mut acquire = acquiring(world, *session, *target, None, false);
            match tokio::time::timeout(Duration::from_millis(*after_ms as u64), &mut acquire).await {
                Ok(Ok(guard)) if free => grant(world, *session, *target, guard),
                Ok(got) => Err(format!("an acquire of a taken lock answered {got:?}")),
                Err(_) if *on_thread => {
                    std::thread::spawn(move || drop(acquire)).join().map_err(|_| "drop panicked".to_owned())
                }
                Err(_) => Ok(()),
            }
        }
        Op::Reenter(n) => {
            let Some(i) = world.pick(*n) else { return Ok(()) };
            let hold = world.guards[i].holds[0];
            let again = match &world.guards[i].guard {
                Guard::Mutex(g) => g.reenter().map(Guard::Mutex),
                Guard::Read(g) => g.reenter().map(Guard::Read),
                Guard::Write(g) => g.reenter().map(Guard::Write),
                Guard::Lease(_) | Guard::Multi(_) => return Ok(()),
            };
            match (world.model.loss(hold), again) {
                (None, Ok(guard)) => {
                    world.model.holds[hold].guards += 1;
                    world.guards.push(Live { guard, holds: vec![hold] });
                    Ok(())
                }
                (Some(reason), Err(LockError::Lost(got))) if got == reason => Ok(()),
                (loss, got) => Err(format!("reenter answered {got:?}; the model's loss is {loss:?}")),
            }
        }
        Op::WriteRead(n) | Op::Downgrade(n) => {
            let Some(i) = world.pick(*n) else { return Ok(()) };
            if !matches!(world.guards[i].guard, Guard::Write(_)) {
                return Ok(());
            }
            let hold = world.guards[i].holds[0];
            let loss = world.model.loss(hold);
            let read = if matches!(op, Op::Downgrade(_)) {
                let Guard::Write(write) = world.guards.swap_remove(i).guard else { unreachable!() };
                let read = write.downgrade().await;
                world.model.leave(hold);
                read
            } else {
                let Guard::Write(write) = &world.guards[i].guard else { unreachable!() };
                write.read().await
            };
            match (loss, read) {
                (None, Ok(read)) => {
                    let session = world.model.holds[hold].session;
                    let node = read.node_path().to_owned();
                    let index = world.model.grant(Target::Read, session, true, node);
                    world.guards.push(Live { guard: Guard::Read(read), holds: vec![index] });
                    Ok(())
                }
                (Some(reason), Err(LockError::Lost(got))) if got == reason => Ok(()),
                (loss, got) => Err(format!("the write holder's read answered {got:?}; the model's loss is {loss:?}")),
            }
        }
        Op::Upgrade(n) => {
            let Some(i) = world.pick(*n) else { return Ok(()) };
            let Guard::Read(read) = &world.guards[i].guard else { return Ok(()) };
            match (world.model.loss(world.guards[i].holds[0]), read.upgrade()) {
                (None, Err(LockError::Upgrade)) => Ok(()),
                (Some(reason), Err(LockError::Lost(got))) if got == reason => Ok(()),
                (loss, got) => Err(format!("upgrade answered {:?}; the model's loss is {loss:?}", got.map(drop))),
            }
        }
        Op::Release(n) | Op::Drop(n) | Op::DropOnThread(n) => {
            let Some(i) = world.pick(*n) else { return Ok(()) };
            let live = world.guards.swap_remove(i);
            live.holds.iter().for_each(|h| world.model.leave(*h));
            match op {
                Op::Release(_) => live.guard.release().await.map_err(|e| format!("release failed: {e:?}")),
                Op::Drop(_) => {
                    drop(live.guard);
                    Ok(())
                }
                _ => std::thread::spawn(move || drop(live.guard)).join().map_err(|_| "drop panicked".to_owned()),
            }
        }
        Op::Status(n) => {
            let Some(i) = world.pick(*n) else { return Ok(()) };
            let Live { guard, holds } = &world.guards[i];
            let statuses: Vec<HoldStatus> = match guard {
                Guard::Mutex(g) => vec![g.status()],
                Guard::Read(g) => vec![g.status()],
                Guard::Write(g) => vec![g.status()],
                Guard::Lease(g) => vec![g.status()],
                Guard::Multi(g) => g.holds().map(|h| h.status()).collect(),
            };
            for (status, hold) in statuses.into_iter().zip(holds) {
                let expected = world.model.loss(*hold).map_or(HoldStatus::Held, HoldStatus::Lost);
                if status != expected {
                    return Err(format!("status() = {status:?}, model {expected:?}"));
                }
            }
            Ok(())
        }
        Op::Guarded { guard, over_limit } => {
            let Some(i) = world.pick(*guard) else { return Ok(()) };
            let hold = world.guards[i].holds[0];
            let bytes = if *over_limit { vec![1u8; 2 << 20] } else { b"v".to_vec() };
            let written = match &world.guards[i].guard {
                Guard::Mutex(g) => g.guarded_set_data(&world.data, &bytes, None).await,
                Guard::Read(g) => g.guarded_set_data(&world.data, &bytes, None).await,
                Guard::Write(g) => g.guarded_set_data(&world.data, &bytes, None).await,
                Guard::Lease(g) => g.guarded_set_data(&world.data, &bytes, None).await,
                Guard::Multi(_) => return Ok(()),
            };
            match (*over_limit, world.model.loss(hold), written) {
                (true, _, Err(LockError::DataTooLarge { .. })) => Ok(()),
                (false, None, Ok(_)) => Ok(()),
                (false, Some(zkurator::LossReason::NodeDeleted), Err(LockError::NotHeld { .. })) => Ok(()),
                (false, Some(zkurator::LossReason::SessionEnded), Err(LockError::SessionLost(_))) => Ok(()),
                (over, loss, got) => {
                    Err(format!("guarded write (over the limit: {over}) answered {:?}; loss {loss:?}", got.map(drop)))
                }
            }
        }
        Op::Multi { session, paths } => {
            let dirs: Vec<String> = paths.iter().map(|p| world.dir(Target::Mutex(*p))).collect();
            let dirs: Vec<&str> = dirs.iter().map(String::as_str).collect();
            let multi = MultiLock::new(&world.sessions[*session as usize].source, &dirs).map_err(|e| format!("{e}"))?;
            let mut unique: Vec<u8> = Vec::new();
            paths.iter().for_each(|p| {
                if !unique.contains(p) {
                    unique.push(*p)
                }
            });
            let free = unique.iter().all(|p| world.model.is_free(Target::Mutex(*p)));
            match (free, multi.try_lock().await) {
                (true, Ok(guard)) => {
                    let nodes = Guard::Multi(guard);
                    let holds = unique
                        .iter()
                        .zip(nodes.nodes())
                        .map(|(p, node)| world.model.grant(Target::Mutex(*p), *session, false, node))
                        .collect();
                    world.guards.push(Live { guard: nodes, holds });
                    Ok(())
                }
                (false, Err(LockError::WouldBlock)) => Ok(()),
                (free, got) => {
                    Err(format!("multi-lock try answered {:?}; the model says free = {free}", got.map(drop)))
                }
            }
        }
        Op::OperatorDelete(n) => {
            let Some(i) = world.pick(*n) else { return Ok(()) };
            let hold = world.guards[i].holds[0];
            if world.model.holds[hold].state == State::Live {
                let node = world.model.holds[hold].node.clone();
                world.operator.delete(&node, None).await.map_err(|e| format!("operator delete {node}: {e}"))?;
                world.model.delete_node(hold);
            }
            Ok(())
        }
        Op::Cut(session) => {
            let handles = &world.sessions[*session as usize];
            handles.proxy.cut();
            // The client reconnects through the proxy on the same session.
            let client = handles.source.client().await.map_err(|e| format!("{e}"))?;
            crate::world::round_trip(&client).await
        }
        Op::Expire(session) => {
            let client = world.sessions[*session as usize].source.client().await.map_err(|e| format!("{e}"))?;
            common::kill_session(&client).await;
            world.model.expire(*session);
            Ok(())
        }
    }
}

/// Records a granted acquire.
fn grant(world: &mut World, session: u8, target: Target, guard: Guard) -> Result<(), String> {
    let node = guard.nodes().remove(0);
    let index = world.model.grant(target, session, true, node);
    world.guards.push(Live { guard, holds: vec![index] });
    Ok(())
}
