using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using HeadTracking.Runtime.Capture;
using HeadTracking.Tests;
using OpenCvSharp;

namespace HeadTracking.Runtime.Tests;

public sealed class FrameSourceTests : IDisposable
{
    private readonly string _dir = Repo.NewTempDir("sources");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A clip whose frame i shows grey level i, at 30 fps.</summary>
    private string Clip(int frames)
    {
        string path = Path.Combine(_dir, $"clip{frames}.avi");
        using var writer = new VideoWriter(path, FourCC.MJPG, 30, new Size(64, 48));
        for (int i = 0; i < frames; i++)
        {
            using var frame = new Mat(48, 64, MatType.CV_8UC3, Scalar.All(i * 4));
            writer.Write(frame);
        }

        return path;
    }

    private static int Level(Mat frame) => (int)Math.Round(frame.Mean().Val0 / 4);

    [Fact]
    public void An_unpaced_video_gives_every_frame_in_order_then_ends_or_loops()
    {
        string clip = Clip(20);
        using var frame = new Mat();
        using (var once = new VideoFileSource(clip))
        {
            for (int i = 0; i < 20; i++)
            {
                Assert.True(once.Read(frame));
                Assert.Equal(i, Level(frame));
            }

            Assert.False(once.Read(frame));
        }

        using var looping = new VideoFileSource(clip, loop: true);
        for (int i = 0; i < 45; i++)
        {
            Assert.True(looping.Read(frame));
            Assert.Equal(i % 20, Level(frame));
        }
    }

    [Fact]
    public void A_paced_video_plays_at_its_frame_rate_and_a_slow_reader_gets_the_newest_frames()
    {
        string clip = Clip(60); // 2 s at 30 fps
        using var frame = new Mat();
        using (var paced = new VideoFileSource(clip, paced: true))
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < 30; i++)
            {
                Assert.True(paced.Read(frame));
                Assert.Equal(i, Level(frame));
            }

            // Frame 29 is due at 29/30 s: reading faster than that means it is not paced.
            Assert.True(clock.Elapsed.TotalSeconds > 0.9, $"30 frames in {clock.Elapsed.TotalSeconds:F2} s");
            Assert.Equal(0, paced.Skipped);
        }

        using var slow = new VideoFileSource(clip, paced: true);
        int reads = 0, last = -1;
        while (slow.Read(frame))
        {
            int level = Level(frame);
            Assert.True(level > last, "frames went backwards");
            last = level;
            reads++;
            Thread.Sleep(100); // a tracker that manages 10 frames a second
        }

        // At 10 reads a second through 2 s, about 20 frames are read and the rest are skipped.
        Assert.True(reads <= 30, $"{reads} frames read: stale frames were not skipped");
        Assert.Equal(60, reads + slow.Skipped);
    }

    [Fact]
    public void An_image_folder_is_read_in_name_order_and_bad_images_are_named()
    {
        for (int i = 0; i < 3; i++)
        {
            using var image = new Mat(48, 64, MatType.CV_8UC3, Scalar.All(i * 4));
            Cv2.ImWrite(Path.Combine(_dir, $"frame{i}.png"), image);
        }

        File.WriteAllText(Path.Combine(_dir, "notes.txt"), "not an image");
        using var frame = new Mat();
        using (var folder = new ImageFolderSource(_dir))
        {
            Assert.Equal(3, folder.Count);
            for (int i = 0; i < 3; i++)
            {
                Assert.True(folder.Read(frame));
                Assert.Equal(i, Level(frame));
            }

            Assert.False(folder.Read(frame));
        }

        File.WriteAllText(Path.Combine(_dir, "frame9.jpg"), "corrupt");
        using var broken = new ImageFolderSource(_dir);
        for (int i = 0; i < 3; i++)
        {
            broken.Read(frame);
        }

        var e = Assert.Throws<InvalidDataException>(() => broken.Read(frame));
        Assert.Contains("frame9.jpg", e.Message, StringComparison.Ordinal);
        Assert.Throws<DirectoryNotFoundException>(() => new ImageFolderSource(Path.Combine(_dir, "none")));
    }

    [Fact]
    public void Cameras_are_found_by_part_of_their_name_and_a_wrong_name_lists_those_there_are()
    {
        Assert.True(OperatingSystem.IsLinux());
        string sysfs = Path.Combine(_dir, "video4linux");
        foreach ((string node, string name) in new[] { ("video0", "Integrated Camera: Integrated C"), ("video2", "HD Pro Webcam C920") })
        {
            Directory.CreateDirectory(Path.Combine(sysfs, node));
            File.WriteAllText(Path.Combine(sysfs, node, "name"), name + "\n");
        }

        Assert.Equal(2, CameraSource.FindByName("c920", sysfs));
        Assert.Equal(0, CameraSource.FindByName("Integrated", sysfs));
        var e = Assert.Throws<IOException>(() => CameraSource.FindByName("Kinect", sysfs));
        Assert.Contains("no camera named 'Kinect' (cameras: 0 'Integrated Camera: Integrated C', 2 'HD Pro Webcam C920')", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<IOException>(() => CameraSource.FindByName("C920", Path.Combine(_dir, "nothing")));
        Assert.Contains("no cameras found", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_and_undecodable_videos_are_named()
    {
        Assert.Throws<FileNotFoundException>(() => new VideoFileSource(Path.Combine(_dir, "none.avi")));
        string corrupt = Path.Combine(_dir, "corrupt.avi");
        File.WriteAllBytes(corrupt, new byte[4096]);
        var e = Assert.Throws<InvalidDataException>(() => new VideoFileSource(corrupt));
        Assert.Contains("corrupt.avi", e.Message, StringComparison.Ordinal);
    }
}
