using System;
using System.Linq;
using System.Threading;
using HeadTracking.Trainer.Data;

namespace HeadTracking.Trainer.Tests;

public class PrefetcherTests
{
    [Fact]
    public void Items_come_in_order_whatever_order_workers_finish_in()
    {
        var p = new Prefetcher<int>(50, i =>
        {
            Thread.Sleep((50 - i) % 7);
            return i * i;
        }, depth: 6);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => i * i), p.ToList());
    }

    [Fact]
    public void A_failure_reaches_the_consumer_at_its_item()
    {
        var p = new Prefetcher<int>(10, i => i == 4 ? throw new InvalidOperationException("item 4 is bad") : i, depth: 3);
        var seen = new System.Collections.Generic.List<int>();
        var e = Assert.Throws<InvalidOperationException>(() =>
        {
            foreach (int x in p)
            {
                seen.Add(x);
            }
        });
        Assert.Equal("item 4 is bad", e.Message);
        Assert.Equal([0, 1, 2, 3], seen);
    }

    [Fact]
    public void Later_items_are_built_while_the_consumer_holds_an_earlier_one()
    {
        // Without prefetching, item 3 could not be ready while item 0 is still being consumed.
        using var thirdReady = new ManualResetEventSlim();
        var p = new Prefetcher<int>(8, i =>
        {
            if (i == 3)
            {
                thirdReady.Set();
            }

            return i;
        }, depth: 4);
        foreach (int x in p)
        {
            if (x == 0)
            {
                Assert.True(thirdReady.Wait(TimeSpan.FromSeconds(30)), "item 3 was not built ahead");
            }
        }
    }

    private sealed class Item : IDisposable
    {
        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;
    }

    [Fact]
    public void A_consumer_that_stops_early_leaves_nothing_being_built_and_the_items_built_ahead_released()
    {
        // The trainer stops after the first validation batch for results.png, then exports and
        // exits: an item still being built then ran native code while the process tore it down.
        int building = 0;
        var made = new System.Collections.Concurrent.ConcurrentBag<Item>();
        var p = new Prefetcher<Item>(10, i =>
        {
            Interlocked.Increment(ref building);
            Thread.Sleep(i == 0 ? 0 : 300);
            var item = new Item();
            made.Add(item);
            Interlocked.Decrement(ref building);
            return item;
        }, depth: 4);
        foreach (Item x in p)
        {
            x.Dispose(); // the consumer's own
            break;
        }

        Assert.Equal(0, Volatile.Read(ref building));
        Assert.Equal(4, made.Count); // item 0 and the three built ahead, no more
        Assert.All(made, x => Assert.True(x.Disposed));
    }
}
