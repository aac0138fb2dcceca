using System;
using System.IO;
using HeadTracking.Tests;
using OpenCvSharp;

namespace HeadTracking.Runtime.Tests;

public class OpenCvVideoTests
{
    private const int Width = 160, Height = 120, Frames = 12;

    [Fact]
    public void Video_written_with_VideoWriter_reads_back_frame_by_frame_with_its_pixels()
    {
        string dir = Repo.NewTempDir("video");
        string path = Path.Combine(dir, "moving-square.avi");
        try
        {
            using (var writer = new VideoWriter(path, FourCC.MJPG, 25, new Size(Width, Height)))
            {
                Assert.True(writer.IsOpened(), "VideoWriter could not open an MJPG .avi (is libgtk-3-0 installed?)");
                for (int i = 0; i < Frames; i++)
                {
                    using Mat frame = MakeFrame(i);
                    writer.Write(frame);
                }
            }

            Assert.True(new FileInfo(path).Length > 1000, "the video file is (nearly) empty");

            using var capture = new VideoCapture(path);
            Assert.True(capture.IsOpened());
            Assert.Equal(Width, capture.FrameWidth);
            Assert.Equal(Height, capture.FrameHeight);

            using var read = new Mat(); // reused for every frame, as the runtime will
            int count = 0;
            while (capture.Read(read) && !read.Empty())
            {
                (int sx, int sy) = SquareAt(count);
                Vec3b inside = read.At<Vec3b>(sy + 10, sx + 10);
                Vec3b outside = read.At<Vec3b>(sy + 10, (sx + 60) % Width);
                Vec3b background = Background(count);
                AssertClose(new Vec3b(255, 255, 255), inside, $"frame {count} inside the square");
                AssertClose(background, outside, $"frame {count} background");
                count++;
            }

            Assert.Equal(Frames, count);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static Mat MakeFrame(int i)
    {
        Vec3b bg = Background(i);
        var frame = new Mat(Height, Width, MatType.CV_8UC3, new Scalar(bg.Item0, bg.Item1, bg.Item2));
        (int sx, int sy) = SquareAt(i);
        Cv2.Rectangle(frame, new Rect(sx, sy, 20, 20), Scalar.White, -1);
        return frame;
    }

    private static (int X, int Y) SquareAt(int i) => (8 + (i * 6), 20 + (i * 4));

    private static Vec3b Background(int i) => new((byte)(20 * i), 60, (byte)(200 - (10 * i)));

    private static void AssertClose(Vec3b expected, Vec3b actual, string where)
    {
        // MJPG is lossy: flat areas come back within a few levels.
        int d = Math.Max(Math.Abs(expected.Item0 - actual.Item0), Math.Max(Math.Abs(expected.Item1 - actual.Item1), Math.Abs(expected.Item2 - actual.Item2)));
        Assert.True(d <= 12, $"{where}: expected {expected}, read {actual}");
    }
}
