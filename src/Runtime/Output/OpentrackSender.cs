using System;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace HeadTracking.Runtime.Output;

/// <summary>
/// Sends poses to opentrack's "UDP over network" input: one 48-byte datagram of six little-endian
/// doubles, X, Y, Z in centimetres then yaw, pitch, roll in degrees (default port 4242). Sending
/// never blocks and allocates nothing; a pose with NaN or infinity is not sent (opentrack would
/// drop it anyway). Use from one thread.
/// </summary>
internal sealed class OpentrackSender : IDisposable
{
    /// <summary>opentrack's default port.</summary>
    public const int DefaultPort = 4242;

    private readonly Socket _socket;
    private readonly byte[] _packet = new byte[48];

    /// <exception cref="ArgumentException">The host does not resolve; the message names it.</exception>
    public OpentrackSender(string host, int port = DefaultPort)
    {
        if (port is <= 0 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(port), $"UDP port {port} is not in 1..65535");
        }

        IPAddress address;
        if (!IPAddress.TryParse(host, out address!))
        {
            IPAddress[] found;
            try
            {
                found = Dns.GetHostAddresses(host);
            }
            catch (SocketException e)
            {
                throw new ArgumentException($"opentrack host '{host}' does not resolve: {e.Message}", nameof(host), e);
            }

            address = Array.Find(found, a => a.AddressFamily == AddressFamily.InterNetwork) ?? found[0];
        }

        _socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp) { Blocking = false };
        // A connected UDP socket keeps its destination: no endpoint to build per datagram.
        _socket.Connect(new IPEndPoint(address, port));
        Destination = $"{address}:{port}";
    }

    /// <summary>Where datagrams go, e.g. "127.0.0.1:4242".</summary>
    public string Destination { get; }

    /// <summary>Datagrams sent, and ones skipped (non-finite values, or the socket was not ready).</summary>
    public long Sent { get; private set; }

    public long Skipped { get; private set; }

    /// <summary>Sends one pose; returns false when it was skipped.</summary>
    public bool Send(double x, double y, double z, double yaw, double pitch, double roll)
    {
        if (!(double.IsFinite(x) && double.IsFinite(y) && double.IsFinite(z) && double.IsFinite(yaw) && double.IsFinite(pitch) && double.IsFinite(roll)))
        {
            Skipped++;
            return false;
        }

        Span<byte> p = _packet;
        BinaryPrimitives.WriteInt64LittleEndian(p, BitConverter.DoubleToInt64Bits(x));
        BinaryPrimitives.WriteInt64LittleEndian(p[8..], BitConverter.DoubleToInt64Bits(y));
        BinaryPrimitives.WriteInt64LittleEndian(p[16..], BitConverter.DoubleToInt64Bits(z));
        BinaryPrimitives.WriteInt64LittleEndian(p[24..], BitConverter.DoubleToInt64Bits(yaw));
        BinaryPrimitives.WriteInt64LittleEndian(p[32..], BitConverter.DoubleToInt64Bits(pitch));
        BinaryPrimitives.WriteInt64LittleEndian(p[40..], BitConverter.DoubleToInt64Bits(roll));
        int sent = _socket.Send(_packet, 0, _packet.Length, SocketFlags.None, out SocketError error);
        if (error != SocketError.Success || sent != _packet.Length)
        {
            Skipped++; // e.g. nobody listening (ICMP refused) or the buffer is full: never block the tracker
            return false;
        }

        Sent++;
        return true;
    }

    public void Dispose() => _socket.Dispose();
}
