// minipod-monitor's -p relays, as docker-proxy's, without iptables and
// without privilege, over listeners that minipod bound before the container
// started (runtime/port_listeners.h):
// - TCP: accept (many clients at once), a non-blocking connect to
//   127.0.0.1:PORT in the container (also for an IPv6 listener: most
//   servers listen on IPv4, and the container's loopback always has it);
//   refused or failed inside: the client is reset at once. Data flows both
//   ways; only bytes the other side cannot take yet are kept, per
//   direction, within a fixed buffer, and while they wait the source is not
//   read (back-pressure). EOF one way becomes shutdown(SHUT_WR) on the
//   other and the other direction goes on (half-close); a reset or error on
//   either side resets both.
// - UDP: one session socket in the container per client address (and host
//   address it was sent to), connected to 127.0.0.1:PORT; replies go back
//   from the host socket to that client, from the address the client used
//   (IP_PKTINFO on a wildcard listener). An idle session is closed.
// Connections and sessions are bounded (the descriptors a flood could take
// from the monitor); at the TCP bound the listeners stop accepting until a
// connection ends, at the UDP bound new clients' datagrams are dropped.
//
// The sockets inside come from a forked helper: setns(CLONE_NEWNET) needs
// CAP_SYS_ADMIN over the target namespace, which a rootless monitor lacks,
// and would move the whole monitor. The helper joins the container through
// its pidfd (CLONE_NEWNET, plus CLONE_NEWUSER when the container has its own
// user namespace: joining it gives the capability there), and passes each
// new socket back with SCM_RIGHTS; a socket keeps the namespace it was made
// in. Calls socket, accept4, connect, send, recv, sendmsg, recvmsg,
// shutdown, setsockopt, epoll_ctl, fork, setns.
#pragma once

#include <stdint.h>
#include <sys/epoll.h>

#include "monitor/parse.h"

namespace monitor {

// What an epoll registration points at: the first member of every object
// the loop dispatches to.
enum TagKind : uint8_t { kTagConn = 1, kTagListener, kTagTcpClient, kTagTcpInner, kTagUdp };
struct Tagged {
  TagKind kind;
};

class Relay {
 public:
  // Starts the socket helper in the namespaces of the process behind
  // pidfd (its user namespace too with join_userns) and watches the
  // listeners (fds kFirstListenerFd + i). False: nothing can be relayed
  // (the reason was said on stderr).
  bool Start(int epfd, int pidfd, bool join_userns, const RelaySpec* specs, int count);
  // An event on something this relay registered.
  void OnEvent(Tagged* tag, uint32_t events);
  // The next time OnTimer wants to run (-1: none), and the run.
  long long NextTimerMs() const;
  void OnTimer(long long now_ms);
  // Frees what was closed during the last batch of events (a batch may
  // still hold events for a connection closed earlier in it).
  void Collect();
  // Closes everything and ends the helper.
  void Stop();

 private:
  struct Listener;
  struct TcpConn;
  struct Side;
  struct UdpSession;
  struct Direction;

  int MakeSocket(int type, int* err);
  void WatchListener(Listener* l, bool on);
  void UpdateTcpListeners();
  void PauseAccepting();
  void OnAccept(Listener* l);
  void StartConnection(Listener* l, int client, int inner);
  bool Pump(int from, int to, Direction* d);
  void Progress(TcpConn* c);
  void Update(TcpConn* c);
  bool WatchSide(TcpConn* c, bool client, uint32_t wanted);
  void OnConnEvent(TcpConn* c, bool client, uint32_t events);
  void Close(TcpConn* c, bool reset);
  void OnDatagrams(Listener* l);
  UdpSession* FindOrOpenSession(Listener* l, const void* peer, unsigned peer_len, void* msg);
  void OnReplies(UdpSession* s);
  void CloseSession(UdpSession* s);

  int epfd_ = -1;
  int helper_sock_ = -1;
  int helper_pid_ = -1;
  uint32_t seq_ = 0;
  Listener* listeners_ = nullptr;
  int listener_count_ = 0;
  TcpConn* tcp_ = nullptr;
  size_t tcp_count_ = 0;
  UdpSession* udp_ = nullptr;
  size_t udp_count_ = 0;
  TcpConn* closed_tcp_ = nullptr;      // closed, not yet freed (Collect)
  UdpSession* closed_udp_ = nullptr;
  bool accept_paused_ = false;
  long long resume_at_ = -1;
  int spare_ = -1;
  char* scratch_ = nullptr;
  size_t scratch_size_ = 0;
};

}  // namespace monitor
