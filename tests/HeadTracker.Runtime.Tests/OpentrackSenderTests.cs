using System;
using System.Net;
using System.Net.Sockets;
using HeadTracking.Runtime.Output;

namespace HeadTracking.Runtime.Tests;

public sealed class OpentrackSenderTests : IDisposable
{
    private readonly Socket _receiver = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);

    public OpentrackSenderTests() => _receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));

    private int Port => ((IPEndPoint)_receiver.LocalEndPoint!).Port;

    public void Dispose() => _receiver.Dispose();

    [Fact]
    public void Packet_holds_six_little_endian_doubles_in_opentrack_order()
    {
        using var sender = new OpentrackSender("127.0.0.1", Port);
        Assert.True(sender.Send(1.5, -2.25, 60, 10, -20.5, 3.125));
        Assert.True(_receiver.Poll(2_000_000, SelectMode.SelectRead));
        byte[] buffer = new byte[64];
        int n = _receiver.Receive(buffer);
        Assert.Equal(48, n);
        double[] values = new double[6];
        for (int i = 0; i < 6; i++)
        {
            values[i] = BitConverter.Int64BitsToDouble(System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(i * 8)));
        }

        Assert.Equal([1.5, -2.25, 60, 10, -20.5, 3.125], values);
        Assert.Equal("127.0.0.1:" + Port, sender.Destination);
    }

    [Fact]
    public void Non_finite_poses_are_not_sent()
    {
        using var sender = new OpentrackSender("127.0.0.1", Port);
        Assert.False(sender.Send(double.NaN, 0, 0, 0, 0, 0));
        Assert.False(sender.Send(0, 0, 0, double.PositiveInfinity, 0, 0));
        Assert.False(_receiver.Poll(200_000, SelectMode.SelectRead));
        Assert.Equal(2, sender.Skipped);
    }

    [Fact]
    public void Sending_allocates_nothing()
    {
        using var sender = new OpentrackSender("127.0.0.1", Port);
        byte[] sink = new byte[64];
        for (int i = 0; i < 10; i++)
        {
            sender.Send(i, 0, 50, 0, 0, 0);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++)
        {
            sender.Send(i, 0, 50, 0, 0, 0);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        while (_receiver.Available > 0)
        {
            _receiver.Receive(sink);
        }

        Assert.Equal(0, allocated);
        Assert.Equal(210, sender.Sent);
    }
}
