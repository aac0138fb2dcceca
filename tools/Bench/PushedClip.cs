using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Threading;
using HeadTracking.Runtime;
using OpenCvSharp;

namespace HeadTracking.Bench;

/// <summary>What the tracker said of one pushed frame: <see cref="Index"/> is the frame it came
/// from (by order), the poses are x, y, z (cm), yaw, pitch, roll (degrees).</summary>
internal sealed record TrackedFrame(int Index, bool Valid, float CenterX, float CenterY, double[] Raw, double[] Filtered);

/// <summary>Frames pushed into the whole tracker as a camera delivers them, and what it said of each.</summary>
internal static class PushedClip
{
    /// <summary>Pushes the frames at 30 per second and returns the tracker's record of each one
    /// (Index: the pushed frame it came from, by order); the record stays in <paramref name="record"/>
    /// (a JSON line per frame, raw and filtered pose), for a look at what a game would read.</summary>
    public static List<TrackedFrame> Track(IReadOnlyList<Mat> frames, HeadTrackerOptions options, string record)
    {
        File.Delete(record);
        options.RecordPath = record;
        using (var tracker = new HeadTracker(options))
        {
            tracker.Start();
            using var rgba = new Mat();
            byte[] bytes = new byte[frames[0].Width * frames[0].Height * 4];
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (int i = 0; i < frames.Count; i++)
            {
                Cv2.CvtColor(frames[i], rgba, ColorConversionCodes.BGR2RGBA);
                Marshal.Copy(rgba.Data, bytes, 0, bytes.Length);
                tracker.PushFrame(bytes, rgba.Width, rgba.Height);
                TimeSpan due = TimeSpan.FromSeconds((i + 1) / 30.0);
                if (due > clock.Elapsed)
                {
                    Thread.Sleep(due - clock.Elapsed);
                }
            }

            Thread.Sleep(300);
        }

        // The worker drops a frame only when it is still busy with the one before, so results are
        // in push order; a result's frame is the newest one pushed before it was captured, which at
        // 30 frames a second and a few milliseconds a frame is its sequence number less one.
        var result = new List<TrackedFrame>();
        foreach (string line in File.ReadLines(record))
        {
            using var doc = JsonDocument.Parse(line);
            JsonElement r = doc.RootElement;
            JsonElement c = r.GetProperty("center");
            result.Add(new TrackedFrame((int)r.GetProperty("frame").GetInt64() - 1, r.GetProperty("valid").GetBoolean(), c[0].GetSingle(), c[1].GetSingle(), Pose(r.GetProperty("raw")), Pose(r.GetProperty("filtered"))));
        }

        return result;
    }

    private static double[] Pose(JsonElement p) =>
        [p.GetProperty("x").GetDouble(), p.GetProperty("y").GetDouble(), p.GetProperty("z").GetDouble(),
         p.GetProperty("yaw").GetDouble(), p.GetProperty("pitch").GetDouble(), p.GetProperty("roll").GetDouble()];
}
