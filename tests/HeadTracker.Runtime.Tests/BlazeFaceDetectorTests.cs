using System;
using System.IO;
using HeadTracking.Runtime.Detection;
using HeadTracking.Tests;
using OpenCvSharp;

namespace HeadTracking.Runtime.Tests;

public sealed class BlazeFaceDetectorTests : IDisposable
{
    private readonly BlazeFaceDetector _detector = new(Repo.BlazeFaceFront);

    public void Dispose() => _detector.Dispose();

    private FaceDetections Detect(Mat frame)
    {
        var faces = new FaceDetections();
        _detector.Detect(frame, faces);
        return faces;
    }

    [Theory]
    [InlineData("sample1.jpg", 3)]
    [InlineData("sample2.jpg", 1)]
    [InlineData("sample3.jpg", 2)]
    [InlineData("sample6.jpg", 4)]
    public void Finds_the_faces_in_real_group_photos_with_sane_geometry(string name, int atLeast)
    {
        using Mat photo = Cv2.ImRead(Repo.Fetched("faces/" + name));
        FaceDetections faces = Detect(photo);

        Assert.InRange(faces.Count, atLeast, atLeast + 2);
        for (int i = 0; i < faces.Count; i++)
        {
            float x0 = faces.Boxes[i * 4], y0 = faces.Boxes[(i * 4) + 1], x1 = faces.Boxes[(i * 4) + 2], y1 = faces.Boxes[(i * 4) + 3];
            Assert.InRange(faces.Scores[i], 0.5f, 1f);
            Assert.True(x0 >= -20 && y0 >= -20 && x1 <= photo.Width + 20 && y1 <= photo.Height + 20, $"face {i} box outside the photo");
            float w = x1 - x0, h = y1 - y0;
            Assert.InRange(w / h, 0.8f, 1.25f); // BlazeFace boxes are square
            Assert.InRange(w, photo.Width * 0.05f, photo.Width * 0.5f);
            for (int k = 0; k < FaceDetections.KeypointCount; k++)
            {
                float kx = faces.Keypoints[(i * 12) + (k * 2)], ky = faces.Keypoints[(i * 12) + (k * 2) + 1];
                Assert.True(kx > x0 - (w * 0.3f) && kx < x1 + (w * 0.3f) && ky > y0 && ky < y1, $"face {i} keypoint {k} far from its box");
            }

            // Upright faces: the subject's right eye (keypoint 0) is on the image's left.
            Assert.True(faces.Keypoints[i * 12] < faces.Keypoints[(i * 12) + 2], $"face {i}: right eye is not left of left eye");
            // Eyes above the mouth.
            Assert.True(faces.Keypoints[(i * 12) + 1] < faces.Keypoints[(i * 12) + 7]);
        }
    }

    [Fact]
    public void Blank_and_noise_frames_have_no_faces()
    {
        using var grey = new Mat(480, 640, MatType.CV_8UC3, new Scalar(128, 128, 128));
        Assert.Equal(0, Detect(grey).Count);

        using var noise = new Mat(480, 640, MatType.CV_8UC3);
        Cv2.Randu(noise, new Scalar(0, 0, 0), new Scalar(255, 255, 255));
        Assert.Equal(0, Detect(noise).Count);
    }

    [Fact]
    public void Mirroring_the_frame_mirrors_the_detections()
    {
        using Mat photo = Cv2.ImRead(Repo.Fetched("faces/sample3.jpg"));
        using var mirrored = new Mat();
        Cv2.Flip(photo, mirrored, FlipMode.Y);
        FaceDetections a = Detect(photo), b = Detect(mirrored);
        Assert.Equal(a.Count, b.Count);

        for (int i = 0; i < a.Count; i++)
        {
            float cx = (a.Boxes[i * 4] + a.Boxes[(i * 4) + 2]) / 2, cy = (a.Boxes[(i * 4) + 1] + a.Boxes[(i * 4) + 3]) / 2;
            float best = float.MaxValue;
            for (int j = 0; j < b.Count; j++)
            {
                float mx = photo.Width - ((b.Boxes[j * 4] + b.Boxes[(j * 4) + 2]) / 2), my = (b.Boxes[(j * 4) + 1] + b.Boxes[(j * 4) + 3]) / 2;
                best = Math.Min(best, MathF.Sqrt(((mx - cx) * (mx - cx)) + ((my - cy) * (my - cy))));
            }

            Assert.True(best < photo.Width * 0.02f, $"face {i}: mirrored detection is {best:F1} px from where it should be");
        }
    }

    [Fact]
    public void Letterbox_padding_is_undone_so_boxes_follow_the_face_in_the_frame()
    {
        using Mat photo = Cv2.ImRead(Repo.Fetched("faces/sample2.jpg"));
        const int shift = 500;
        using var tall = new Mat(photo.Height + shift, photo.Width, MatType.CV_8UC3, Scalar.Black);
        using (var below = new Mat(tall, new Rect(0, shift, photo.Width, photo.Height)))
        {
            photo.CopyTo(below);
        }

        FaceDetections a = Detect(photo);
        float ax = a.Boxes[0], ay = a.Boxes[1];
        FaceDetections b = Detect(tall);
        Assert.Equal(1, a.Count);
        Assert.Equal(1, b.Count);
        Assert.InRange(b.Boxes[0] - ax, -photo.Width * 0.02f, photo.Width * 0.02f);
        Assert.InRange(b.Boxes[1] - ay - shift, -photo.Width * 0.02f, photo.Width * 0.02f);
    }

    [Fact]
    public void Steady_state_detection_allocates_nothing()
    {
        using Mat photo = Cv2.ImRead(Repo.Fetched("faces/sample6.jpg"));
        var faces = new FaceDetections();
        for (int i = 0; i < 5; i++)
        {
            _detector.Detect(photo, faces);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 50; i++)
        {
            _detector.Detect(photo, faces);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(4, faces.Count);
        Assert.True(allocated == 0, $"50 detections allocated {allocated} bytes");
    }

    [Fact]
    public void Corrupt_or_missing_model_is_reported_with_its_path()
    {
        string dir = Repo.NewTempDir("bad-model");
        try
        {
            string corrupt = Path.Combine(dir, "corrupt.onnx");
            File.WriteAllBytes(corrupt, [1, 2, 3, 4, 5, 6, 7, 8]);
            var e = Assert.Throws<InvalidDataException>(() => new BlazeFaceDetector(corrupt));
            Assert.Contains(corrupt, e.Message, StringComparison.Ordinal);

            string missing = Path.Combine(dir, "missing.onnx");
            var m = Assert.Throws<FileNotFoundException>(() => new BlazeFaceDetector(missing));
            Assert.Contains(missing, m.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
