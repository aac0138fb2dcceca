// A game script the way a Unity-style engine runs one: the engine (host.c, embedding Mono) makes
// the object, calls Start() once, Update(dt) every frame and OnDestroy() at the end. It tracks a
// video with HeadTracker.Runtime.dll and writes one line per frame, read back by the test
// (tests/HeadTracker.Runtime.Tests/MonoHostTests.cs). Compiled with Mono's mcs against the
// netstandard2.1 DLL only: no .NET Core API, no UnityEngine.
using System;
using System.Globalization;
using System.IO;
using HeadTracking.Runtime;

public sealed class HeadLookScript
{
    private HeadTracker tracker;
    private TrackingResult latest;
    private StreamWriter log;
    private int frame;
    private double time;

    /// <summary>The camera's yaw the way a game would turn it (degrees), for the host to draw.</summary>
    public float CameraYaw;

    public void Start()
    {
        string model = Environment.GetEnvironmentVariable("HEADTRACKER_MODEL");
        string video = Environment.GetEnvironmentVariable("HEADTRACKER_VIDEO");
        string output = Environment.GetEnvironmentVariable("HEADTRACKER_LOG");
        log = new StreamWriter(output) { AutoFlush = false };
        log.WriteLine("frame,time,sequence,valid,cx,cy,yaw,pitch,roll,x,y,z,status");
        var options = new HeadTrackerOptions { ModelPath = model, VideoPath = video, LoopVideo = false, PaceVideo = true };
        tracker = new HeadTracker(options);
        tracker.Start();
        Console.WriteLine("HeadLookScript: started on " + video + " with " + model + " (" + Environment.Version + ")");
    }

    public void Update(float dt)
    {
        time += dt;
        frame++;
        bool any = tracker.TryGetLatest(ref latest);
        HeadPose p = any ? latest.Filtered : default(HeadPose);
        if (any && latest.Valid)
        {
            CameraYaw = (float)p.Yaw;
        }

        log.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0},{1:F4},{2},{3},{4:F2},{5:F2},{6:F3},{7:F3},{8:F3},{9:F3},{10:F3},{11:F3},{12}",
            frame, time, any ? latest.Sequence : 0, any && latest.Valid ? 1 : 0, any ? latest.CenterX : 0, any ? latest.CenterY : 0,
            p.Yaw, p.Pitch, p.Roll, p.X, p.Y, p.Z, tracker.Status));
    }

    public void OnDestroy()
    {
        TrackerStatus status = tracker.Status;
        string fault = tracker.FaultReason;
        tracker.Dispose();
        log.Dispose();
        Console.WriteLine("HeadLookScript: " + frame + " frames, tracker " + status + (fault != null ? ": " + fault : ""));
    }
}
